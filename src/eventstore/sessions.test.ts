import { sessionStoreContract } from './session-contract.ts';
import { createMemorySessionStore } from './sessions.ts';

sessionStoreContract('memory', async () => createMemorySessionStore());
