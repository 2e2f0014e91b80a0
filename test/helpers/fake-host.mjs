// Preloaded (node --import) into a child process that plays another machine:
// os.hostname() answers DUOLOGUE_TEST_HOSTNAME, so its claims carry that host
// and other workers judge them by their lease alone, as across real machines.
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';

const name = process.env.DUOLOGUE_TEST_HOSTNAME;
if (name) {
  os.hostname = () => name;
  syncBuiltinESMExports();
}
