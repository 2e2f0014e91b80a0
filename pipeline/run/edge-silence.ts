/**
 * inspect, continued: every audio input's edge silence (silencedetect),
 * memoised by content so a warm plan decodes nothing. The plan reads it from
 * the media facts; it never runs ffmpeg itself.
 */
import pLimit from 'p-limit';
import { LIMITS } from '../defaults.ts';
import { isAbort } from '../errors.ts';
import type { EdgeSilenceMemo } from '../cache/silence-memo.ts';
import type { FfmpegPaths } from '../media/ffmpeg.ts';
import type { MediaFacts } from '../media/facts.ts';
import { DEFAULT_THRESHOLDS, detectEdgeSilence, thresholdsId, type SilenceThresholds } from '../media/silence.ts';

export interface EdgeSilenceOptions {
  memo: EdgeSilenceMemo;
  ffmpeg: FfmpegPaths;
  signal?: AbortSignal;
  thresholds?: SilenceThresholds;
  /** Counts, for tests and benchmarks: how many files were decoded, how many answered from the memo. */
  stats?: { measured: number; memoHits: number };
}

/**
 * Adds `edges` to every audio fact in `media` (in place). A file ffmpeg cannot
 * decode to the end is left unmeasured (counted as speech throughout): the
 * figure is advice, and the render path reports a broken input itself.
 */
export async function measureEdgeSilence(media: Map<string, MediaFacts>, options: EdgeSilenceOptions): Promise<void> {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const method = thresholdsId(thresholds);
  const limit = pLimit(LIMITS.inspectConcurrency);
  // Scenes often share a file: measure each distinct content once.
  const bySha = new Map<string, Promise<MediaFacts & { kind: 'audio' }>>();
  await Promise.all(
    [...media].map(async ([location, facts]) => {
      // A line not voiced yet has no file to measure (its facts are an estimate): measured once it is voiced.
      if (facts.kind !== 'audio' || facts.edges || facts.pending) return;
      let job = bySha.get(facts.sha256);
      if (!job) {
        job = limit(async () => {
          const remembered = await options.memo.get(facts.sha256, method);
          if (remembered) {
            if (options.stats) options.stats.memoHits++;
            return { ...facts, edges: remembered };
          }
          let edges;
          try {
            edges = await detectEdgeSilence(facts.localPath, facts.durationMs, options.ffmpeg, { signal: options.signal, thresholds });
          } catch (error) {
            if (isAbort(error) || options.signal?.aborted) throw error;
            return facts;
          }
          if (options.stats) options.stats.measured++;
          // Remembering is best effort: a read-only cache still plans, it only measures again next time.
          await options.memo.put(facts.sha256, method, edges).catch(() => undefined);
          return { ...facts, edges };
        });
        bySha.set(facts.sha256, job);
      }
      const measured = await job;
      if (measured.edges) media.set(location, { ...facts, edges: measured.edges });
    }),
  );
}
