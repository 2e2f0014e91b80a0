import path from 'node:path';
import { roundUsd } from '../cost/estimate.ts';
import type { Plan } from '../plan/index.ts';
import { outcomeCounts, type SceneResult } from '../schedule/index.ts';
import { totalWaste } from '../plan/waste.ts';
import { sceneWasteJson, wasteTotalsJson } from './waste.ts';

export interface ReportScene {
  id: string;
  title: string;
  order: string;
  resolution: string;
  seed: number;
  seed_source: string;
  cache: string;
  cache_reason: string | null;
  outcome: string;
  video_seconds: number;
  estimate_usd: number;
  cost_usd: number;
  processing_seconds: number | null;
  error: string | null;
  /** Relative to the report file. */
  thumbnail: string | null;
  /** Where the scene's billed seconds go, and `trim: edges` (report/waste.ts). */
  waste?: ReturnType<typeof sceneWasteJson>['waste'];
  trim?: ReturnType<typeof sceneWasteJson>['trim'];
}

export interface ReportEpisode {
  id: string;
  title: string | null;
  status: 'complete' | 'incomplete';
  /** Why it is incomplete (scenes without clips, or a file that could not be written). */
  reason: string | null;
  /** Relative to the report file. */
  video: string | null;
  duration_seconds: number;
  cost_usd: number;
  full_cost_usd: number;
  scenes: ReportScene[];
}

export interface RunReport {
  generated_at: string;
  duologue: string;
  run_id: number;
  provider: string;
  model: string;
  price_table: string;
  interrupted: boolean;
  totals: {
    scenes: number;
    rendered: number;
    cached: number;
    failed: number;
    skipped: number;
    cost_usd: number;
    from_scratch_usd: number;
    saved_usd: number;
    /** Of cost_usd: voicing lines written as text, and rendering video. */
    speech_usd: number;
    video_usd: number;
    /** Of the scenes rendered (paid) this run: the billed seconds split, as planned. */
    waste?: ReturnType<typeof wasteTotalsJson>;
    /** The same for every scene, cached or not. */
    waste_from_scratch?: ReturnType<typeof wasteTotalsJson>;
  };
  episodes: ReportEpisode[];
  /** Lines written as text: per line its text, voice and what its speech cost this run. */
  speech: ReportLine[];
}

export interface ReportLine {
  episode: string;
  scene: string;
  line: number;
  side: string;
  text: string;
  voice: string;
  status: string;
  cost_usd: number;
  error: string | null;
}

export interface ReportInput {
  plan: Plan;
  scenes: SceneResult[];
  episodes: { id: string; status: 'complete' | 'incomplete'; output: string | null; reason?: string }[];
  spentUsd: number;
  interrupted: boolean;
  runId: number;
  version: string;
  generatedAt: Date;
  reportDir: string;
  thumbnails: ReadonlyMap<string, string>;
  /** The speech stage's lines and spend (of `spentUsd`). */
  speech?: { spentUsd: number; lines: readonly { episodeId: string; sceneId: string; line: number; side: string; text: string; voice: string; status: string; usd: number; error?: string }[] };
}

/** The report's data (report.json), from the plan and what happened. Pure. */
export function buildRunReport(input: ReportInput): RunReport {
  // A bucket's URL (`--out s3://…`) stays as it is; a file is named relative to the report.
  const rel = (file: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? file : path.relative(input.reportDir, file).split(path.sep).join('/'));
  const from = roundUsd(input.plan.totals.fullCostUsd);
  return {
    generated_at: input.generatedAt.toISOString(),
    duologue: input.version,
    run_id: input.runId,
    provider: input.plan.provider.id,
    model: input.plan.provider.model,
    price_table: input.plan.provider.priceTable,
    interrupted: input.interrupted,
    totals: {
      scenes: input.scenes.length,
      ...outcomeCounts(input.scenes),
      cost_usd: roundUsd(input.spentUsd),
      from_scratch_usd: from,
      saved_usd: roundUsd(Math.max(0, from - input.spentUsd)),
      speech_usd: roundUsd(input.speech?.spentUsd ?? 0),
      video_usd: roundUsd(input.spentUsd - (input.speech?.spentUsd ?? 0)),
      waste: wasteTotalsJson(totalWaste(input.scenes.filter((s) => s.outcome === 'rendered').map((s) => s.scene))),
      waste_from_scratch: wasteTotalsJson(input.plan.totals.waste),
    },
    speech: (input.speech?.lines ?? []).map((l) => ({
      episode: l.episodeId,
      scene: l.sceneId,
      line: l.line,
      side: l.side,
      text: l.text,
      voice: l.voice,
      status: l.status,
      cost_usd: l.usd,
      error: l.error ?? null,
    })),
    episodes: input.plan.episodes.map((ep) => {
      const outcome = input.episodes.find((e) => e.id === ep.id);
      const results = input.scenes.filter((s) => s.scene.episodeId === ep.id);
      return {
        id: ep.id,
        title: ep.title ?? null,
        status: outcome?.status ?? 'incomplete',
        reason: outcome?.reason ?? null,
        video: outcome?.output ? rel(outcome.output) : null,
        duration_seconds: Math.round(results.reduce((n, s) => n + s.scene.videoSeconds, 0) * 1000) / 1000,
        cost_usd: roundUsd(results.reduce((n, s) => n + s.costUsd, 0)),
        full_cost_usd: ep.fullCostUsd,
        scenes: results.map((s) => ({
          id: s.scene.sceneId,
          title: s.scene.title,
          order: s.scene.order,
          resolution: s.scene.resolution,
          seed: s.scene.seed,
          seed_source: s.scene.seedSource,
          cache: s.scene.cache.status,
          cache_reason: s.scene.cache.reason ?? null,
          outcome: s.outcome,
          video_seconds: s.scene.videoSeconds,
          estimate_usd: s.scene.estimateUsd,
          cost_usd: s.costUsd,
          processing_seconds: s.processingSeconds === undefined ? null : Math.round(s.processingSeconds * 10) / 10,
          error: s.outcome === 'failed' || s.outcome === 'skipped' ? (s.error ?? null) : null,
          thumbnail: input.thumbnails.has(s.scene.key) ? rel(input.thumbnails.get(s.scene.key)!) : null,
          ...sceneWasteJson(s.scene.waste),
        })),
      };
    }),
  };
}
