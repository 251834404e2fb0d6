/** The store contracts over a real PostgreSQL database of the test cluster, each store on its own pool. */
import type pg from 'pg';
import { describe } from 'vitest';
import { connectPg } from '../../src/ledger/pg/connect.js';
import { PgLeaderStore } from '../../src/ledger/pg/leader-store.js';
import { migratePg } from '../../src/ledger/pg/migrations.js';
import { PgSlotStore } from '../../src/ledger/pg/slot-store.js';
import { createDatabase } from '../helpers/pg-cluster.js';
import type { ContractBackend } from './backend.js';
import { leaderStoreContract } from './leader-store.contract.js';
import { slotStoreContract } from './slot-store.contract.js';

function postgres<S>(make: (pool: pg.Pool) => S): ContractBackend<S> {
  return {
    fresh: async () => {
      const url = await createDatabase();
      const pools: pg.Pool[] = [await connectPg(url, { max: 2 })];
      await migratePg(pools[0]!);
      let first = true;
      return {
        open: async () => {
          if (first) {
            first = false;
            return make(pools[0]!);
          }
          const pool = await connectPg(url, { max: 2 });
          pools.push(pool);
          return make(pool);
        },
        close: async () => {
          await Promise.all(pools.map((p) => p.end()));
        },
      };
    },
  };
}

describe('SlotStore on PostgreSQL', () => slotStoreContract(postgres((p) => new PgSlotStore(p))));
describe('LeaderStore on PostgreSQL', () => leaderStoreContract(postgres((p) => new PgLeaderStore(p))));
