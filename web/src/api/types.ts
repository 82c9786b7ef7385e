// The api's request and answer types, shared with the server (src/composition/http/api-types.ts), never retyped here.
export type * from '../../../src/composition/http/api-types.ts';
