import { Writable } from 'node:stream';
import { main } from '../../pipeline/cli.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written, synchronously readable. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in-process with captured streams (the same entry the bin uses). */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, options: { signal?: AbortSignal; cwd?: string } = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main({ argv, env: { PATH: process.env.PATH, ...env }, stdout, stderr, signal: options.signal, cwd: options.cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
