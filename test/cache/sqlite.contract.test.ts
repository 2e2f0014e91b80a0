/** The SQLite store (the embedded default) against the store contract: a fresh cache dir per test. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../pipeline/cache/store.ts';
import { storeContract } from './contract.ts';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-contract-'));
  return (options) => openStore({ ...options, dir });
}, { callsWaitForTransactions: true });
