/**
 * The PostgreSQL store against the store contract: one embedded server for
 * the file, a fresh database per test; each store opened on it is another
 * pool (another machine), with the media memo in a cache dir of the test's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../pipeline/cache/store.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { storeContract } from './contract.ts';

const server = usePostgres();

storeContract(
  'postgres',
  async () => {
    const url = await server.fresh();
    const dir = mkdtempSync(path.join(tmpdir(), 'dl-contract-pg-'));
    return (options) => openStore({ ...options, url, dir });
  },
  { callsWaitForTransactions: false },
);
