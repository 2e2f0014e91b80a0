/**
 * The fake WaveSpeed in its own process (so a benchmark measures only
 * duologue's CPU). Prints `{"apiUrl": ...}` once listening; runs until killed.
 * A line `stats` on stdin is answered with one line on stdout:
 * `{"routeCounts": {...}, "chargedUsd": n, "submissions": n}`.
 * Usage: tsx serve.mts '{"apiKey": "...", "workDir": "...", "cannedOutput": "...", ...}'
 */
import { createInterface } from 'node:readline';
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { FakeWavespeed, type FakeOptions } from './wavespeed-server.ts';

const options = JSON.parse(process.argv[2]) as Omit<FakeOptions, 'ffmpeg'>;
const fake = await new FakeWavespeed({ ...options, ffmpeg: resolveFfmpegPaths() }).start();
process.stdout.write(`${JSON.stringify({ apiUrl: fake.apiUrl })}\n`);
process.on('SIGTERM', () => void fake.stop().then(() => process.exit(0)));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify({ routeCounts: fake.routeCounts, chargedUsd: fake.chargedUsd, submissions: fake.submitCount() })}\n`);
});
