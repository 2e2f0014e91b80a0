/**
 * The fake WaveSpeed in its own process (so a benchmark measures only
 * duologue's CPU). Prints `{"apiUrl": ...}` once listening; runs until killed.
 * Usage: tsx serve.mts '{"apiKey": "...", "workDir": "...", "cannedOutput": "...", ...}'
 */
import { resolveFfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { FakeWavespeed, type FakeOptions } from './wavespeed-server.ts';

const options = JSON.parse(process.argv[2]) as Omit<FakeOptions, 'ffmpeg'>;
const fake = await new FakeWavespeed({ ...options, ffmpeg: resolveFfmpegPaths() }).start();
process.stdout.write(`${JSON.stringify({ apiUrl: fake.apiUrl })}\n`);
process.on('SIGTERM', () => void fake.stop().then(() => process.exit(0)));
