/** The store contracts over a real SQLite ledger file, each store on its own connection to it. */
import path from 'node:path';
import { describe } from 'vitest';
import { SqliteLeaderStore } from '../../src/ledger/leader-store.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { SqliteSlotStore } from '../../src/ledger/slot-store.js';
import { tempDir } from '../helpers/temp.js';
import type { ContractBackend } from './backend.js';
import { leaderStoreContract } from './leader-store.contract.js';
import { slotStoreContract } from './slot-store.contract.js';

function sqlite<S>(make: (ledger: Ledger) => S): ContractBackend<S> {
  return {
    fresh: async () => {
      const tmp = tempDir();
      const file = path.join(tmp.dir, 'ledger.db');
      const open: Ledger[] = [];
      return {
        open: async () => {
          const ledger = new Ledger(file);
          open.push(ledger);
          return make(ledger);
        },
        close: async () => {
          for (const l of open) l.close();
          tmp.cleanup();
        },
      };
    },
  };
}

describe('SlotStore on SQLite', () => slotStoreContract(sqlite((l) => new SqliteSlotStore(l))));
describe('LeaderStore on SQLite', () => leaderStoreContract(sqlite((l) => new SqliteLeaderStore(l))));
