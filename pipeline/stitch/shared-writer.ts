/**
 * The finisher's `write` when episodes are shared by several workers (a
 * shared store, or `--out s3://`): stitchOnce decides who writes each
 * episode. Only the worker that wins the claim fetches the clips other
 * workers left in the shared clip store, stitches (on the local pool) and
 * publishes; the others report the episode as written by that worker.
 * Another worker stitching it now (`held`) is waited for, then asked again.
 */
import { copyFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { EpisodeStitches, StitchRow } from '../cache/interfaces.ts';
import { BY_ANOTHER_WORKER, UP_TO_DATE_PREFIX } from '../events.ts';
import type { Sleep } from '../sleep.ts';
import { tempTag } from '../temp-tag.ts';
import { conformClip } from './conform.ts';
import { stitchEpisode, type StitchInput, type StitchOptions, type StitchResult } from './episode.ts';
import { episodeOutputName, type EpisodeOutputs } from './outputs/index.ts';
import type { LocalPool } from './pool.ts';
import type { EpisodeWriter } from './run-episodes.ts';
import { stitchKey } from './stitch-key.ts';
import { stitchOnce } from './stitch-once.ts';

export interface SharedWriterDeps {
  stitches: EpisodeStitches;
  outputs: EpisodeOutputs;
  /** `dir`: an episode goes to its planned output path (its own `output:` too); `bucket`: to `<id>.mp4` under the prefix. */
  outKind: 'dir' | 'bucket';
  /** The local ffmpeg slots; the writer takes one only to stitch, never while it waits for another worker. */
  pool: LocalPool;
  /**
   * Makes a scene's clip local before the stitch (one another worker rendered may still be only in the
   * shared store): resolves to its local path, or undefined when the scene's `clip` is local already.
   */
  fetchClip: (identity: string, signal: AbortSignal) => Promise<string | undefined>;
  /** The store's lease: the claim is renewed three times per lease while the stitch runs. */
  leaseMs: number;
  /** How long to wait before asking again about an episode another worker is stitching. */
  pollMs: number;
  sleep: Sleep;
  runId?: number;
  /** @default stitchEpisode */
  stitch?: typeof stitchEpisode;
  /** @default conformClip */
  conform?: typeof conformClip;
}

/** An EpisodeWriter that writes each episode once across every worker sharing the store. */
export function sharedEpisodeWriter(deps: SharedWriterDeps): EpisodeWriter {
  const stitch = deps.stitch ?? stitchEpisode;
  const conform = deps.conform ?? conformClip;
  return async (input: StitchInput, options: StitchOptions): Promise<StitchResult> => {
    const missing = input.scenes.filter((s) => !s.clip);
    if (missing.length > 0 && !input.allowPartial) {
      // The same answer stitchEpisode gives, without claiming an episode this worker would not write.
      return { status: 'not-stitched', reason: `${missing.map((s) => `${s.sceneId} (${s.missingReason ?? 'no clip'})`).join(', ')} missing; --allow-partial puts slates in their place` };
    }
    const signal = options.signal ?? new AbortController().signal;
    const name = deps.outKind === 'bucket' ? episodeOutputName(input.episodeId) : input.output;
    const target = deps.outputs.target(name);
    const key = stitchKey({
      episodeId: input.episodeId,
      title: input.title,
      // A slate's identity is what it shows (as in the stitch's own inputs hash).
      scenes: input.scenes.map((s) => ({ identity: s.clip ? s.identity : `slate:${s.missingReason}:${s.expectedSeconds}`, title: s.title })),
      format: input.format,
      target,
    });
    for (;;) {
      const result = await stitchOnce(
        { key, episodeId: input.episodeId, name, runId: deps.runId },
        {
          stitches: deps.stitches,
          outputs: withSidecar(deps.outputs, deps.outKind === 'dir'),
          renewEveryMs: Math.max(1, Math.floor(deps.leaseMs / 3)),
          signal,
          stitch: async (stitchSignal) => {
            // Each clip fetched (outside the pool: no ffmpeg slot is held while bytes arrive), then
            // conformed on the pool, all at once; the stitch then finds every conform done.
            const conformDir = path.join(options.workDir, 'conformed');
            const scenes = await Promise.all(
              input.scenes.map(async (s) => {
                if (!s.clip) return s;
                const clip = (await deps.fetchClip(s.identity, stitchSignal)) ?? s.clip;
                // A failure here is not the episode's verdict: the stitch conforms again and reports it.
                await deps.pool.run('conform', () => conform(clip, s.identity, input.format, { dir: conformDir, ffmpeg: options.ffmpeg, signal: stitchSignal, stats: options.stats })).catch(() => undefined);
                return { ...s, clip };
              }),
            );
            return deps.pool.run('stitch', () => stitchHere({ ...input, scenes }, options, stitchSignal));
          },
        },
      );
      // A folder's episode is named by its path, a bucket's by its URL.
      const output = deps.outKind === 'bucket' ? target : input.output;
      switch (result.kind) {
        case 'written':
          return { status: 'stitched', output, durationSeconds: 0 };
        case 'done':
          return { status: 'up-to-date', output, durationSeconds: 0, note: writtenBy(result.row) };
        case 'lost':
          return { status: 'elsewhere', output, note: `${BY_ANOTHER_WORKER}: it took the episode over while this one stitched it` };
        case 'held':
          // Stitching elsewhere now: seconds, or (a worker that died) until its lease lapses.
          await deps.sleep(deps.pollMs, signal);
      }
    }
  };

  async function stitchHere(input: StitchInput, options: StitchOptions, signal: AbortSignal): Promise<string> {
    // Into a temp file of the work dir (stitchEpisode puts its sidecar beside it); stitchOnce publishes it.
    const tmp = path.join(options.workDir, 'episodes', `${input.episodeId}.${tempTag()}.mp4`);
    try {
      const r = await stitch({ ...input, output: tmp }, { ...options, signal });
      if (r.status !== 'stitched') throw new Error(`internal: a fresh temp output was not stitched (${r.status})`);
      return tmp;
    } catch (error) {
      await rm(tmp, { force: true });
      await rm(`${tmp}.json`, { force: true });
      throw error;
    }
  }
}

/** Who wrote an episode found written (another worker of this run, or an earlier run), and when. */
export function writtenBy(row: StitchRow): string {
  // The owner is host:pid:start:nonce; its host says enough.
  const who = row.written_by ? ` on ${row.written_by.split(':')[0]}` : '';
  const when = row.written_at !== null ? ` at ${new Date(row.written_at).toISOString()}` : '';
  return `${UP_TO_DATE_PREFIX}: written${who}${when}`;
}

/**
 * A local folder's episode keeps its provenance sidecar (`<file>.json`), as when one machine writes it;
 * a bucket's does not (the store's row records what was written). Either way the temp sidecar goes.
 */
function withSidecar(outputs: EpisodeOutputs, keepSidecar: boolean): EpisodeOutputs {
  return {
    ...outputs,
    async publish(name, localPath, signal) {
      const sidecar = `${localPath}.json`;
      try {
        const published = await outputs.publish(name, localPath, signal);
        if (keepSidecar) {
          // Copied then renamed: the work dir may be on another file system, and a reader never sees half a file.
          const dest = `${path.resolve(outputs.location, name)}.json`;
          const part = `${dest}.${tempTag()}.tmp`;
          try {
            await copyFile(sidecar, part);
            await rename(part, dest);
          } finally {
            await rm(part, { force: true });
          }
        }
        return published;
      } finally {
        await rm(sidecar, { force: true });
      }
    },
  };
}
