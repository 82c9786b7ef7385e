// The api's request and answer types, shared with the server (src/http/api-types.ts), never retyped here.
export type * from '../../../src/http/api-types.ts';
