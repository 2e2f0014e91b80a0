// The entry of the thread that reads manifests (read-in-worker.ts). A worker does not inherit the
// main thread's TypeScript loader when that was registered through tsx's API (bin/duologue.js), so
// it registers its own, then runs the reader.
import { register } from 'tsx/esm/api';

register();
await import('./read-worker-body.ts');
