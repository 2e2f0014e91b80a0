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

// DUOLOGUE_TEST_STOP_BEFORE_SUBMIT=1: the process stops itself (SIGSTOP) once, at the moment its first
// paid submit request is created in undici — after the claim check marked it "submitting", before any
// byte is written — as a worker frozen there (a suspended VM, a long pause) would be. A test continues it.
if (process.env.DUOLOGUE_TEST_STOP_BEFORE_SUBMIT === '1') {
  const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
  const onCreate = ({ request }) => {
    if (request.method !== 'POST' || !String(request.path).endsWith('/infinitetalk/multi')) return;
    unsubscribe('undici:request:create', onCreate);
    process.kill(process.pid, 'SIGSTOP');
  };
  subscribe('undici:request:create', onCreate);
}
