// Preloaded (node --import) into a worker: DUOLOGUE_TEST_STOP_BEFORE_PUT=<text> stops the process
// (SIGSTOP) once, when an HTTP PUT whose path contains <text> is created — after the stitch claim's
// last renewal and the object's first look, before any byte of the upload is written — as a worker
// frozen there (a suspended VM, a long pause) would be. A test continues it.
const wanted = process.env.DUOLOGUE_TEST_STOP_BEFORE_PUT;
if (wanted) {
  const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
  const onStart = ({ request }) => {
    if (request.method !== 'PUT' || !String(request.path).includes(wanted)) return;
    unsubscribe('http.client.request.start', onStart);
    process.kill(process.pid, 'SIGSTOP');
  };
  subscribe('http.client.request.start', onStart);
}
