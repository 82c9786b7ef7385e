import { sessionStoreContract } from './session-contract.ts';
import { createMemorySessionStore } from '../platform/eventstore/sessions.ts';

sessionStoreContract('memory', async () => createMemorySessionStore());
