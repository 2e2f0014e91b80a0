/**
 * One worker stitches each episode: claim → stitch (the caller's function,
 * into a local temp file) → publish → mark written. The claim's lease is
 * renewed while the stitch runs; a worker that loses it (paused, partitioned,
 * slow past its lease) stops its stitch, publishes nothing, and writes
 * nothing: the worker that took the episode over does. An output recorded
 * as written is trusted only while it still holds those bytes.
 */
import { rm } from 'node:fs/promises';
import type { EpisodeStitches, StitchRow } from '../cache/interfaces.ts';
import { DuologueError } from '../errors.ts';
import type { EpisodeOutputs, PublishedFile } from './outputs/types.ts';

export interface StitchOnceRequest {
  /** The episode's fingerprint (stitch-key.ts). */
  key: string;
  episodeId: string;
  /** The output's name under `--out` (outputs/types.ts `episodeOutputName`). */
  name: string;
  runId?: number;
}

export interface StitchOnceDeps {
  stitches: EpisodeStitches;
  outputs: EpisodeOutputs;
  /** Stitches the episode into a local temp file and resolves to its path; stops when `signal` aborts. */
  stitch: (signal: AbortSignal) => Promise<string>;
  /** How often the claim's lease is renewed while stitching: a third of the store's lease, say. */
  renewEveryMs: number;
  /**
   * Calls `beat` every `everyMs` until the returned stop is called; `beat` resolves once the renewal
   * is settled (it never rejects). @default setInterval (unref'd)
   */
  every?: (beat: () => Promise<void>, everyMs: number) => () => void;
  signal?: AbortSignal;
}

export type StitchOnceResult =
  /** This worker stitched, published and recorded it. */
  | { kind: 'written'; target: string; epoch: number; output: PublishedFile }
  /** Written already (by `row.written_by` at `row.written_at` to `row.target`), and still there. */
  | { kind: 'done'; row: StitchRow }
  /** Another live worker is stitching it: ask again later. */
  | { kind: 'held'; row: StitchRow }
  /** This worker's claim was taken over while it stitched: it published and recorded nothing. */
  | { kind: 'lost'; epoch: number };

const defaultEvery = (beat: () => Promise<void>, everyMs: number) => {
  const timer = setInterval(() => void beat(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

/** Why a stitch was stopped: the claim was lost (a result), not a failure. */
class ClaimLost extends Error {}

export async function stitchOnce(req: StitchOnceRequest, deps: StitchOnceDeps): Promise<StitchOnceResult> {
  const { stitches, outputs } = deps;
  const target = outputs.target(req.name);
  // Twice at most: a written output found gone is reopened once, then claimed like any open one.
  for (let attempt = 0; ; attempt++) {
    const claim = await stitches.claim({ key: req.key, episodeId: req.episodeId, target, runId: req.runId });
    if (claim.kind === 'held') return claim;
    if (claim.kind === 'written') {
      const { row } = claim;
      const file = row.output_bytes !== null && row.output_sha256 !== null ? { bytes: row.output_bytes, sha256: row.output_sha256 } : undefined;
      if (file && (await outputs.holds(req.name, file, deps.signal))) return { kind: 'done', row };
      if (attempt > 0) throw new DuologueError('E_STORE', `episode ${req.episodeId}: ${target} is recorded as written but does not hold what was recorded, again; not stitched a third time`);
      await stitches.reopen(req.key, row.claim_epoch); // false: another worker reopened it first; claim as it is now
      continue;
    }
    return won(req, deps, target, claim.epoch);
  }
}

async function won(req: StitchOnceRequest, deps: StitchOnceDeps, target: string, epoch: number): Promise<StitchOnceResult> {
  const { stitches, outputs } = deps;
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  const lose = (why: unknown) => {
    if (!stop.signal.aborted) stop.abort(why);
  };
  // The heartbeat: a renewal refused means another worker holds the episode now.
  const stopBeating = (deps.every ?? defaultEvery)(
    () =>
      stitches.renew(req.key, epoch).then(
        (ours) => void (ours || lose(new ClaimLost())),
        (error: unknown) => lose(error),
      ),
    deps.renewEveryMs,
  );
  let file: string | undefined;
  try {
    file = await deps.stitch(signal);
    stopBeating();
    if (stop.signal.aborted) throw stop.signal.reason;
    // The fence before anything leaves this machine: a worker that was paused past its lease stops here.
    // (One paused between this check and its upload may still put its bytes; the stitch being the same
    // for the same fingerprint, they are the bytes the new holder writes, and only the holder records them.)
    if (!(await stitches.renew(req.key, epoch))) throw new ClaimLost();
    const output = await outputs.publish(req.name, file, deps.signal);
    if (!(await stitches.markWritten(req.key, epoch, output))) throw new ClaimLost();
    return { kind: 'written', target, epoch, output };
  } catch (error) {
    stopBeating();
    if (error instanceof ClaimLost || (stop.signal.reason instanceof ClaimLost && !deps.signal?.aborted)) return { kind: 'lost', epoch };
    // Failed or stopped: the episode is free at once for the next claim (release is a no-op if it is no longer ours).
    await stitches.release(req.key, epoch).catch(() => {});
    throw stop.signal.aborted && !deps.signal?.aborted ? stop.signal.reason : error;
  } finally {
    if (file) await rm(file, { force: true });
  }
}
