/**
 * PURE: scenes + media facts + cache lookups + prices + budget → Plan.
 * No clock, no env, no I/O: every input is an argument, so tests use plain objects.
 */
import { chargeFor, estimate, roundUsd } from '../cost/estimate.ts';
import type { PriceTable } from '../cost/price-table.ts';
import { cacheKey, type CacheKeyInput } from './key.ts';
import type { MediaFacts } from '../media/facts.ts';
import { trackIdentity, type SceneTracks } from '../media/timeline.ts';
import { sceneWaste, totalWaste, tracksOf, type SceneWaste, type WasteTotals } from './waste.ts';
import type { EpisodeSpec, SceneSpec, Series, Order, Resolution } from '../types.ts';

export type CacheStatus = 'hit' | 'miss' | 'in-flight';

export interface CacheLookup {
  status: CacheStatus;
  /** For a miss after an earlier render of the same scene: what changed. */
  reason?: string;
  /** A paid clip of this key came back this long and was refused: a retry holds at least its price. */
  refusedSeconds?: number;
}

export interface ProviderInfo {
  id: string;
  model: string;
  prices: PriceTable;
}

export interface PlanInput {
  series: Series;
  media: ReadonlyMap<string, MediaFacts>;
  provider: ProviderInfo;
  /** `--budget`: one cap for the whole run, over any manifest's `budget:`. */
  budgetUsd?: number;
  /** The provider account's balance: a second cap over every episode, with the same admission. */
  balanceUsd?: number;
  /**
   * What a named run this worker joins has already spent, by budget pool id
   * (the pools of `--budget` or the manifests' `budget:`): admission counts it
   * as taken, so a worker joining late does not start an episode the run can
   * no longer finish. @default nothing spent
   */
  spentUsd?: (poolId: string) => number;
  /** Seeds drawn for `seed: random` scenes, by `episode/scene`. */
  drawnSeeds?: ReadonlyMap<string, number>;
  /** Cache state of a key; absent = nothing cached yet. */
  lookup?: (key: string, inputs: CacheKeyInput, scene: SceneSpec) => CacheLookup;
  /**
   * Scenes with a line not voiced yet: `estimate` plans them on the
   * estimated (bound) length, their speech priced in; `skip` skips them
   * (after the speech stage: a line it could not voice). @default 'estimate'
   */
  unvoiced?: 'estimate' | 'skip';
  /** USD this run already spent by episode (its speech stage): counted in the episode's caps before anything is admitted. */
  speechSpentByEpisode?: ReadonlyMap<string, number>;
}

export type SeedSource = 'manifest' | 'derived' | 'random';

export interface PlannedScene {
  episodeId: string;
  sceneId: string;
  title: string;
  spec: SceneSpec;
  order: Order;
  resolution: Resolution;
  seed: number;
  seedSource: SeedSource;
  tracks: SceneTracks;
  image: { location: string; localPath: string; sha256: string; width: number; height: number };
  prompt: string;
  key: string;
  /** What the key was computed from (kept to explain a later miss). */
  keyInputs: CacheKeyInput;
  videoSeconds: number;
  billedSeconds: number;
  /** What rendering it would cost from scratch. */
  estimateUsd: number;
  /** The most a render may be charged (a clip up to the length tolerance longer): what a submit reserves. */
  maxUsd: number;
  /** What this run is expected to spend on it (0 for hits, in-flight, skipped, and a scene sharing an earlier scene's key). */
  costUsd: number;
  /** Lines not voiced yet: their speech keys and prices. Non-empty: the video figures are estimates (the bound). */
  pendingSpeech: { key: string; usd: number; ms: number; maxMs: number; charsPerSecond: number; learned: boolean }[];
  cache: CacheLookup;
  /** Where its billed seconds go (speech, edge silence, padding, rounding) and what `trim: edges` saves. */
  waste: SceneWaste;
  action: 'render' | 'cached' | 'resume' | 'skip';
  skipReason?: string;
}

export interface PlannedEpisode {
  id: string;
  title?: string;
  format: EpisodeSpec['format'];
  output?: string;
  file: string;
  scenes: PlannedScene[];
  admitted: boolean;
  skipReason?: string;
  /** Money this run would spend on the episode (0 if skipped). */
  costUsd: number;
  /** What the misses of this episode would cost, whether admitted or not. */
  neededUsd: number;
  /** The most those misses may be charged: what admission holds against the budget. */
  neededMaxUsd: number;
  /** The budget pool this episode's spend counts against (`run` or a manifest file); none = no cap. */
  budgetPool?: string;
  /** What the whole episode would cost with an empty cache. */
  fullCostUsd: number;
  /** Of `costUsd`/`neededUsd`: voicing its lines not voiced yet (each speech key counted once, by its first admitted episode). */
  speechUsd: number;
}

export interface BudgetPool {
  /** `run` for --budget, `balance` for the account's balance, else the manifest file whose `budget:` it is. */
  id: string;
  /** `balance`: the account's money, a cap over every episode beside its budget. @default 'budget' */
  kind?: 'budget' | 'balance';
  limitUsd: number;
  /** What admission holds: the most the admitted misses may be charged. */
  reservedUsd: number;
}

export interface Plan {
  provider: { id: string; model: string; priceTable: string; pricesReadAt: string };
  episodes: PlannedEpisode[];
  budgets: BudgetPool[];
  /** The run's hard cap (its ledger's budget): `--budget`, else the manifests' caps added up when every episode has one. */
  capUsd?: number;
  /** What the live view shows spend against: the budgets added up (episodes under none aside), or the balance when that is less. */
  spendCapUsd?: number;
  totals: {
    scenes: number;
    render: number;
    cached: number;
    resume: number;
    skipped: number;
    videoSeconds: number;
    billedSeconds: number;
    costUsd: number;
    /** The most this run may be charged for what it plans to render. */
    maxUsd: number;
    fullCostUsd: number;
    /** Of `costUsd`: speech (lines written as text, not voiced yet). */
    speechUsd: number;
    /** Scenes whose video figures are estimates (a line not voiced yet). */
    estimated: number;
    /** Every scene's billed seconds split, from scratch. */
    waste: WasteTotals;
  };
}

export function plan(input: PlanInput): Plan {
  const { series, media, provider } = input;
  const prices = provider.prices;
  const lookup: NonNullable<PlanInput['lookup']> = input.lookup ?? (() => ({ status: 'miss' }));

  const pools = budgetPools(input);
  // Scenes with the same key are one render: it is counted once, for the first admitted episode that has it.
  const countedKeys = new Set<string>();
  const countedSpeech = new Set<string>();
  const episodes = series.episodes.map((ep): PlannedEpisode => {
    const scenes = ep.scenes.map((spec) => planScene(spec));
    if (input.unvoiced === 'skip') {
      for (const s of scenes) {
        if (s.pendingSpeech.length > 0 && s.action !== 'cached') {
          s.action = 'skip';
          s.skipReason = 'a line was not voiced';
          s.costUsd = 0;
        }
      }
    }
    const fresh = new Map<string, PlannedScene>();
    for (const s of scenes) if (s.action === 'render' && !countedKeys.has(s.key) && !fresh.has(s.key)) fresh.set(s.key, s);
    // A line said twice (or in two episodes) is voiced once.
    const freshSpeech = new Map<string, number>();
    for (const s of scenes) if (s.action === 'render') for (const p of s.pendingSpeech) if (!countedSpeech.has(p.key)) freshSpeech.set(p.key, p.usd);
    const speechUsd = roundUsd([...freshSpeech.values()].reduce((sum, usd) => sum + usd, 0));
    // Speech is priced per character, so its price is exact: it is held as it is, beside the video's bound.
    const neededUsd = roundUsd([...fresh.values()].reduce((sum, s) => sum + s.estimateUsd, 0) + speechUsd);
    const neededMaxUsd = roundUsd([...fresh.values()].reduce((sum, s) => sum + s.maxUsd, 0) + speechUsd);
    const fullCostUsd = roundUsd(scenes.reduce((sum, s) => sum + s.estimateUsd, 0));
    // Episodes are admitted whole, in manifest order; a later, cheaper one may still fit.
    // Admission holds the most the misses may be charged, as the submits will: an admitted
    // episode can always reserve all of its scenes.
    const pool = pools.byEpisode.get(ep.id);
    // It must fit its budget and the account's balance alike; it then holds its worst case in both.
    const caps = [pool, pools.balance].filter((p): p is BudgetPool => p !== undefined);
    let admitted = true;
    let skipReason: string | undefined;
    if (neededMaxUsd > 0) {
      for (const cap of caps) {
        const left = roundUsd(cap.limitUsd - cap.reservedUsd);
        if (neededMaxUsd <= left) continue;
        admitted = false;
        const upTo = neededMaxUsd > neededUsd ? ` (up to $${neededMaxUsd.toFixed(2)})` : '';
        skipReason =
          cap.kind === 'balance'
            ? `over balance: needs $${neededUsd.toFixed(2)}${upTo}, $${left.toFixed(2)} of the account's $${cap.limitUsd.toFixed(2)} balance left`
            : `over budget: needs $${neededUsd.toFixed(2)}${upTo}, $${left.toFixed(2)} of $${cap.limitUsd.toFixed(2)} left`;
        break;
      }
      if (admitted) for (const cap of caps) cap.reservedUsd = roundUsd(cap.reservedUsd + neededMaxUsd);
    }
    if (admitted) {
      for (const s of scenes) if (s.action === 'render' && fresh.get(s.key) !== s) s.costUsd = 0; // rendered once, by its first scene
      for (const key of fresh.keys()) countedKeys.add(key);
      for (const key of freshSpeech.keys()) countedSpeech.add(key);
    } else {
      for (const s of scenes) {
        if (s.action === 'render') {
          s.action = 'skip';
          s.skipReason = skipReason?.startsWith('over balance') ? 'over balance' : 'over budget';
          s.costUsd = 0;
        }
      }
    }
    return {
      id: ep.id,
      title: ep.title,
      format: ep.format,
      output: ep.output,
      file: ep.file,
      scenes,
      admitted,
      skipReason,
      costUsd: admitted ? neededUsd : 0,
      neededUsd,
      neededMaxUsd,
      fullCostUsd,
      budgetPool: pool?.id,
      speechUsd: admitted ? speechUsd : 0,
    };
  });

  const all = episodes.flatMap((e) => e.scenes);
  return {
    provider: { id: provider.id, model: provider.model, priceTable: prices.version, pricesReadAt: prices.readAt },
    episodes,
    budgets: pools.list,
    capUsd: runCap(input, pools.byEpisode),
    spendCapUsd: spendCap(pools.list),
    totals: {
      scenes: all.length,
      render: all.filter((s) => s.action === 'render').length,
      cached: all.filter((s) => s.action === 'cached').length,
      resume: all.filter((s) => s.action === 'resume').length,
      skipped: all.filter((s) => s.action === 'skip').length,
      videoSeconds: round3(all.reduce((sum, s) => sum + s.videoSeconds, 0)),
      billedSeconds: all.reduce((sum, s) => sum + s.billedSeconds, 0),
      costUsd: roundUsd(episodes.reduce((sum, e) => sum + e.costUsd, 0)),
      maxUsd: roundUsd(episodes.reduce((sum, e) => sum + (e.admitted ? e.neededMaxUsd : 0), 0)),
      fullCostUsd: roundUsd(episodes.reduce((sum, e) => sum + e.fullCostUsd, 0)),
      speechUsd: roundUsd(episodes.reduce((sum, e) => sum + e.speechUsd, 0)),
      estimated: all.filter((s) => s.pendingSpeech.length > 0).length,
      waste: totalWaste(all),
    },
  };

  function planScene(spec: SceneSpec): PlannedScene {
    const { key, keyInputs, image, tracks, untrimmed, seed, seedSource } = sceneKey(spec, input);
    const est = estimate(spec.order, tracks.left.durationMs, tracks.right.durationMs, spec.resolution, prices);
    const cache = lookup(key, keyInputs, spec);
    const action = cache.status === 'hit' ? 'cached' : cache.status === 'in-flight' ? 'resume' : 'render';
    const pendingSpeech = audioRefs(spec).flatMap((location) => {
      const facts = media.get(location);
      if (facts?.kind !== 'audio' || !facts.pending) return [];
      const p = facts.pending;
      return [{ key: p.key, usd: p.usd, ms: p.ms, maxMs: facts.durationMs, charsPerSecond: p.charsPerSecond, learned: p.learned }];
    });
    return {
      episodeId: spec.episodeId,
      sceneId: spec.sceneId,
      title: spec.title,
      spec,
      order: spec.order,
      resolution: spec.resolution,
      seed,
      seedSource,
      tracks,
      image: { location: spec.image.location, localPath: image.localPath, sha256: image.sha256, width: image.width, height: image.height },
      prompt: spec.prompt,
      key,
      keyInputs,
      videoSeconds: est.videoSeconds,
      billedSeconds: est.billedSeconds,
      estimateUsd: est.costUsd,
      // As the submit will reserve: at least what the last refused clip of this key cost.
      maxUsd: cache.refusedSeconds ? Math.max(est.maxUsd, chargeFor(cache.refusedSeconds, spec.resolution, prices)) : est.maxUsd,
      costUsd: action === 'render' ? est.costUsd : 0,
      cache,
      waste: sceneWaste(spec, tracks, untrimmed, media, prices),
      action,
      pendingSpeech,
    };
  }
}

/** Where a scene's audio inputs are (media map keys). */
function audioRefs(spec: SceneSpec): string[] {
  if (spec.audio.form === 'lines') return spec.audio.lines.map((l) => l.media.location);
  return [spec.audio.left, spec.audio.right].filter((r) => r !== undefined).map((r) => r.location);
}

/** Every scene's cache key, as the plan computes it: the cache is read for these before planning. */
export function planKeys(input: Pick<PlanInput, 'series' | 'media' | 'provider' | 'drawnSeeds'>): { key: string; keyInputs: CacheKeyInput; spec: SceneSpec }[] {
  return input.series.episodes.flatMap((ep) => ep.scenes.map((spec) => ({ ...sceneKey(spec, input), spec })));
}

/** A scene's cache key and what it is computed from. */
function sceneKey(spec: SceneSpec, input: Pick<PlanInput, 'media' | 'provider' | 'drawnSeeds'>) {
  const image = input.media.get(spec.image.location);
  if (!image || image.kind !== 'image') throw new Error(`internal: no facts for image ${spec.image.location}`);
  const { tracks, untrimmed } = tracksOf(spec, input.media);
  const { seed, seedSource } = seedOf(spec, input.drawnSeeds);
  const keyInputs: CacheKeyInput = {
    provider: input.provider.id,
    model: input.provider.model,
    imageSha256: image.sha256,
    left: trackIdentity(tracks.left),
    right: trackIdentity(tracks.right),
    prompt: spec.prompt,
    order: spec.order,
    resolution: spec.resolution,
    seed,
  };
  return { key: cacheKey(keyInputs), keyInputs, image, tracks, untrimmed, seed, seedSource };
}

function seedOf(spec: SceneSpec, drawn?: ReadonlyMap<string, number>): { seed: number; seedSource: SeedSource } {
  if (spec.seed.kind === 'fixed') return { seed: spec.seed.value, seedSource: 'manifest' };
  if (spec.seed.kind === 'derived') return { seed: spec.seed.value, seedSource: 'derived' };
  const seed = drawn?.get(`${spec.episodeId}/${spec.sceneId}`);
  if (seed === undefined) throw new Error(`internal: no drawn seed for ${spec.episodeId}/${spec.sceneId}`);
  return { seed, seedSource: 'random' };
}

/** --budget makes one pool for the run; otherwise each manifest's `budget:` caps its own episodes. */
function budgetPools(input: PlanInput): { list: BudgetPool[]; byEpisode: Map<string, BudgetPool>; balance?: BudgetPool } {
  const list: BudgetPool[] = [];
  const byEpisode = new Map<string, BudgetPool>();
  const balance: BudgetPool | undefined = input.balanceUsd === undefined ? undefined : { id: 'balance', kind: 'balance', limitUsd: Math.max(0, input.balanceUsd), reservedUsd: 0 };
  if (balance) list.push(balance);
  if (input.budgetUsd !== undefined) {
    const pool = { id: 'run', limitUsd: input.budgetUsd, reservedUsd: input.spentUsd?.('run') ?? 0 };
    list.push(pool);
    for (const ep of input.series.episodes) byEpisode.set(ep.id, pool);
  } else {
    for (const m of input.series.manifests) {
      if (m.budget === undefined) continue;
      const pool = { id: m.file, limitUsd: m.budget, reservedUsd: input.spentUsd?.(m.file) ?? 0 };
      list.push(pool);
      for (const id of m.episodes) byEpisode.set(id, pool);
    }
  }
  // Money the run already spent (its speech) is gone from the episode's cap (not from the balance: read after it).
  for (const [episodeId, usd] of input.speechSpentByEpisode ?? []) {
    const pool = byEpisode.get(episodeId);
    if (pool) pool.reservedUsd = roundUsd(pool.reservedUsd + usd);
  }
  return { list, byEpisode, balance };
}

/** What the run's caps add up to; none when some episode is under no cap (or there are no episodes). */
function runCap(input: PlanInput, byEpisode: Map<string, BudgetPool>): number | undefined {
  if (input.budgetUsd !== undefined) return input.budgetUsd;
  const episodes = input.series.episodes;
  if (episodes.length === 0 || episodes.some((e) => !byEpisode.has(e.id))) return undefined;
  return roundUsd([...new Set(episodes.map((e) => byEpisode.get(e.id)!))].reduce((sum, pool) => sum + pool.limitUsd, 0));
}

function spendCap(pools: BudgetPool[]): number | undefined {
  const caps = pools.filter((p) => p.kind !== 'balance');
  const budgets = caps.length === 0 ? undefined : roundUsd(caps.reduce((sum, p) => sum + p.limitUsd, 0));
  const balance = pools.find((p) => p.kind === 'balance')?.limitUsd;
  if (budgets === undefined) return balance;
  return balance === undefined ? budgets : Math.min(budgets, balance);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
