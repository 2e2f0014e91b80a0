// Preloaded (node --import) into a worker a benchmark starts: writes the
// process's own CPU time, as JSON microseconds, to BENCH_CPU_FILE when it
// exits (a parent cannot read a child's CPU after it is gone).
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_CPU_FILE;
if (file) process.once('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())));
