import { sessionStoreContract } from './session-contract.ts';
import { createMemorySessionStore } from '../../../src/platform/eventstore/sessions.ts';

sessionStoreContract('memory', async () => createMemorySessionStore());
