/**
 * What the rest of duologue needs from the cache's state, one interface per
 * concern: renders and their claims, the run ledger, the upload memo, the
 * media memo, and the queries of the `status`/`cache` commands. Every method
 * returns a Promise, so a backend whose driver is asynchronous (PostgreSQL)
 * implements the same interfaces as the embedded SQLite one; both pass one
 * contract suite (test/cache/contract.ts). Only `pipeline/cache/` knows
 * which backend is behind them.
 */
import type { Stats } from 'node:fs';
import type { CacheKeyInput } from '../plan/key.ts';
import type { SpeechKeyInput } from '../speech/key.ts';
import type { Worker } from './workers.ts';

export type RenderStatus = 'pending' | 'submitting' | 'in-flight' | 'complete' | 'failed' | 'ambiguous';

/** One render (one cache key) with its claim, as stored. */
export interface RenderRow {
  key: string;
  provider: string;
  model: string;
  status: RenderStatus;
  prediction_id: string | null;
  episode_id: string;
  scene_id: string;
  seed: number;
  inputs: string;
  estimate_usd: number;
  clip_path: string | null;
  clip_sha256: string | null;
  clip_bytes: number | null;
  video_seconds: number | null;
  billed_seconds: number | null;
  cost_usd: number | null;
  error: string | null;
  attempts: number;
  /** Predictions that completed for this key (each one was billed). */
  paid_attempts: number;
  /** 1 when the provider refused the scene itself (moderation, bad input): not tried again until it changes. */
  refused: number;
  /** JSON array of every prediction id this key has had. */
  prediction_ids: string | null;
  /** Times in a row the finished prediction's output could not be fetched. */
  output_misses: number;
  /** JSON of the last submit's SentSubmit (what and when), to find its task if the answer was lost. */
  submit_sent: string | null;
  owner: string | null;
  lease_until: number | null;
  /** The fencing token: taken anew (one higher) by every claim; a holder's later writes apply only while it is still theirs. */
  claim_epoch: number;
  created_at: number;
  updated_at: number;
  submitted_at: number | null;
  completed_at: number | null;
}

export interface ClaimRequest {
  key: string;
  /** A scene's video key inputs, or a line's speech key inputs (speech is claimed, paid and cached like video). */
  inputs: CacheKeyInput | SpeechKeyInput;
  episodeId: string;
  sceneId: string;
  estimateUsd: number;
}

export type ClaimResult =
  | { kind: 'complete'; row: RenderRow }
  /** Another live process holds it: wait for its outcome. */
  | { kind: 'busy'; row: RenderRow }
  /** Ours now. `row.status` says where it stands: pending (fresh), in-flight (resume), submitting/ambiguous (unknown). */
  | { kind: 'claimed'; row: RenderRow };

/** A delivered, checked clip. */
export interface ClipRecord {
  path: string;
  sha256: string;
  bytes: number;
  videoSeconds: number;
  billedSeconds: number;
  costUsd: number;
}

export interface FailOptions {
  /** @default 'failed' */
  status?: 'failed' | 'ambiguous';
  /** A prediction completed and was billed but its clip is unusable; its delivered length when known. */
  paid?: { deliveredSeconds?: number };
  /** The provider refused the scene itself (moderation, bad input). */
  refused?: boolean;
  /** Drop the key's current prediction id (the provider does not know it). */
  forgetPrediction?: boolean;
}

/**
 * Renders with claims: a key is worked on by one live process at a time, so
 * two runs sharing a cache never submit it twice. Claims are leases renewed
 * by a heartbeat; a dead owner's lease (or, on its own host, its dead pid)
 * frees the key for the next run, which resumes from the recorded state.
 * Writes that change a claim's state apply only while `owner` holds the row
 * and never over a complete render (a run that lost its claim cannot undo
 * what the run that took over did).
 */
export interface RenderStore {
  /** `host:pid:start:nonce` of the run this store claims for. */
  readonly owner: string;
  /** How long a claim lives without a heartbeat. */
  readonly leaseMs: number;
  /** The clock leases are on: a shared store's is the server's, one for every machine. */
  readonly clock: { now: () => number };
  get(key: string): Promise<RenderRow | undefined>;
  /** The rows of these keys that exist (the plan's lookup reads them all at once). */
  getMany(keys: readonly string[]): Promise<Map<string, RenderRow>>;
  /** Takes the key (new, free, expired or a dead owner's), or says who has it. */
  claim(req: ClaimRequest): Promise<ClaimResult>;
  /** Renews every lease this owner holds (the heartbeat). */
  renew(): Promise<void>;
  /**
   * The last step before the paid request: a compare-and-set on still owning
   * the row. False means another run took the key over: the caller must not submit.
   */
  markSubmitting(key: string, sentJson?: string): Promise<boolean>;
  /** The submit's answer proved no task was created; it waits to try again. */
  markPending(key: string): Promise<void>;
  /**
   * The request of the submit recorded as `sentJson` is over (answered, cut,
   * or never sent): `closedJson` replaces it whoever holds the row, but only
   * while it is still the recorded submit (a compare-and-set on the record,
   * not the claim), so a run that took the key over can tell a finished
   * request from one a paused worker may still have open. False: another
   * submit was recorded since (or the render is complete).
   */
  closeSubmit(key: string, sentJson: string, closedJson: string): Promise<boolean>;
  /**
   * The provider created a task: its id is recorded whoever holds the row now
   * (losing it would mean paying again), and the row is ours again if free.
   * Output misses are counted per prediction: a new one starts from none.
   */
  markInFlight(key: string, predictionId: string): Promise<void>;
  /** The clip is in the store and checked. With `predictionId`, counts the paid prediction. */
  markComplete(key: string, clip: ClipRecord, predictionId?: string): Promise<void>;
  /** Gives the key up as failed (or ambiguous: it may have been billed). */
  markFailed(key: string, error: string, options?: FailOptions): Promise<void>;
  /** The prediction's output could not be fetched this time: counted. Resolves to the count in a row. */
  missedOutput(key: string): Promise<number>;
  /** Gives the key back without changing its state (Ctrl-C, deadline): the next run resumes it. */
  release(key: string): Promise<void>;
  releaseAll(): Promise<void>;
  /** Every prediction id this key has had. */
  predictionIds(key: string): Promise<string[]>;
  /** A complete render's clip found at another path (the cache folder was moved). */
  relocate(key: string, clipPath: string): Promise<void>;
  /** A complete render whose clip went missing or bad becomes a plain miss, saying why (not a paid try held against the key). */
  forget(key: string, why: string): Promise<void>;
  /** The key a scene last rendered with (to explain a later miss). */
  recordSceneKey(episodeId: string, sceneId: string, key: string, inputs: CacheKeyInput): Promise<void>;
  /** The last keys of these scenes, by `episode/scene`. */
  lastSceneKeys(scenes: readonly { episodeId: string; sceneId: string }[]): Promise<Map<string, { key: string; inputs: CacheKeyInput }>>;
}

/** `in-flight`: submitted by this run and not settled yet (a run killed there keeps the charge on its books). */
export type SceneOutcome = 'rendered' | 'cached' | 'failed' | 'skipped' | 'interrupted' | 'in-flight';

export interface RunInfo {
  id: number;
  startedAt: number;
  finishedAt?: number;
  provider: string;
}

export interface RecordedCharge {
  episodeId: string;
  sceneId: string;
  key: string;
  outcome: string;
  costUsd: number;
  /** The prediction this run submitted for the scene; none for a submit that ended without an answer. */
  predictionId?: string;
}

export type RunResult = 'complete' | 'incomplete' | 'interrupted' | 'failed';

/** The run ledger: what each run was asked, what it spent, what happened to each scene. */
export interface RunLedger {
  /** Resolves to the new run's id. */
  start(info: { provider: string; args: string[]; budgetUsd?: number; plannedUsd: number }): Promise<number>;
  /** A scene may be written twice (charged at submit, settled at the end): the run's spend moves by the difference. */
  scene(runId: number, s: { episodeId: string; sceneId: string; key: string; outcome: SceneOutcome; costUsd?: number; error?: string }): Promise<void>;
  /** What the run plans to spend, once planned (the run is recorded before it plans). */
  planned(runId: number, info: { budgetUsd?: number; plannedUsd: number }): Promise<void>;
  finish(runId: number, result: RunResult, note?: string): Promise<void>;
  /** A run's times and provider; undefined when there is no such run. With no id: the last run of `provider`. */
  run(id: number | undefined, provider: string): Promise<RunInfo | undefined>;
  /** What a run recorded for the scenes it paid for (or may have), with the prediction it submitted when known. */
  charges(run: RunInfo): Promise<RecordedCharge[]>;
  /** The prediction this run's submit created for a scene (kept on the run's own row, whatever the key does later). */
  submitted(runId: number, s: { episodeId: string; sceneId: string }, predictionId: string): Promise<void>;
  /** True when some render of the cache has, or had, this prediction id (any run's). */
  knowsPrediction(id: string): Promise<boolean>;
  /**
   * The run named `name` (`--run NAME`): created with these caps and plan
   * fingerprint, or, when a worker created it already, joined as it is (the
   * caller compares `capJson` and `planFingerprint` and refuses a worker that
   * disagrees). Each worker finishes it as it ends: the last one's result stands.
   * The seeds drawn for `seed: random` are stored by the worker that creates
   * the run; every later one is given them, to plan the same keys.
   */
  joinRun(info: NamedRunStart): Promise<NamedRun>;
  /**
   * This store's owner works on the named run from now on (called once its
   * join is accepted): `duologue status` lists it as one of the run's
   * workers, the heartbeat (`renders.renew`) beats it, `finish` ends it, and
   * the scenes it writes count as its done ones.
   */
  joinWorker(runId: number): Promise<void>;
  /**
   * A named run's hold: `usd` for `key` in `pool`, taken only if every pool's
   * spent + held + usd stays within its limit (`limitUsd`, and `accountLimitUsd`
   * over the whole run), in one transaction whatever worker reserves.
   * Resolves to the hold's id, or undefined when it does not fit.
   */
  reserve(runId: number, hold: HoldRequest): Promise<number | undefined>;
  /** The charge is known: the hold becomes spend of that amount (recorded even if the hold was released meanwhile: never under-count). */
  settleHold(runId: number, holdId: number, chargedUsd: number): Promise<void>;
  /**
   * Nothing was charged: the hold is given back. With `owner`, only while it is
   * still that worker's (a hold adopted by another worker is the adopter's to settle).
   */
  releaseHold(holdId: number, owner?: string): Promise<void>;
  /**
   * The latest hold another worker of the run left `held` on `key` (it was
   * killed or paused after submitting; the caller now holds the key's claim
   * and collects that submit's prediction): it becomes `owner`'s, to be
   * settled with the prediction's real charge. Undefined when there is none.
   */
  adoptHold(runId: number, key: string, owner: string): Promise<{ id: number; usd: number } | undefined>;
  /**
   * Gives back the holds of workers that are gone (their claim on the key
   * lapsed or passed on) whose key is proven not submitted (its render is
   * pending). A key marked submitting, in flight, ambiguous, failed or complete
   * keeps its hold: the money may be gone. Resolves to how many were released.
   */
  releaseStaleHolds(runId: number): Promise<number>;
  /**
   * A named run's money across all its workers; `exceptHeldKeys`: holds on
   * these keys are left out of `reservedUsd` (a joiner's own misses, which its
   * plan counts itself).
   */
  holdTotals(runId: number, pool?: string, exceptHeldKeys?: readonly string[]): Promise<{ spentUsd: number; reservedUsd: number }>;
}

export interface NamedRunStart {
  name: string;
  provider: string;
  args: string[];
  budgetUsd?: number;
  plannedUsd: number;
  /** The caps the run was started with, canonical JSON (workers must agree). */
  capJson: string;
  /** Hash of the manifests' cache keys (workers must render the same work). */
  planFingerprint: string;
  /** Seeds this worker drew for `seed: random` scenes, by `episode/scene`: stored when it creates the run. */
  drawnSeeds?: Readonly<Record<string, number>>;
}

export interface NamedRun {
  id: number;
  /** True when this worker made the run; false when it joined one. */
  created: boolean;
  capJson: string;
  planFingerprint: string;
  /** The seeds the run's first worker drew for `seed: random` scenes, by `episode/scene` (empty when none). */
  drawnSeeds: Record<string, number>;
}

export interface HoldRequest {
  pool: string;
  key: string;
  usd: number;
  /** The worker's claim owner: its hold is its key's, freed only when that claim is proven unsubmitted. */
  owner: string;
  limitUsd?: number;
  accountLimitUsd?: number;
}

/** sha256 → provider URL, so a file shared by 40 scenes is uploaded once. */
export interface UploadMemo {
  get(sha256: string, maxAgeMs: number): Promise<string | undefined>;
  put(sha256: string, url: string): Promise<void>;
  /** The provider could not fetch the URL: upload the bytes again next time. */
  forget(sha256: string): Promise<void>;
}

export interface FileFacts<P = unknown> {
  sha256: string;
  probe: P | null;
}

/**
 * sha256 (and probe result) of a file, remembered by (path, size, mtime,
 * inode), so planning 1,000 unchanged scenes reads no media bytes.
 */
export interface FileMemo {
  get(file: string, stats: Stats): Promise<FileFacts | undefined>;
  put(file: string, stats: Stats, facts: FileFacts): Promise<void>;
}

/** A run as the ledger holds it (`duologue status --json` prints it as is). */
export interface RunRow {
  id: number;
  started_at: number;
  finished_at: number | null;
  pid: number;
  provider: string;
  args: string;
  budget_usd: number | null;
  planned_usd: number;
  spent_usd: number;
  result: string | null;
  note: string | null;
  /** A named run's name (`--run`), its caps and its plan fingerprint; null for a process's own run. */
  name?: string | null;
  cap_json?: string | null;
  plan_fingerprint?: string | null;
  /** `host:pid:start:nonce` of the process running it (none for runs older than issue 13). */
  owner: string | null;
  /** Its last heartbeat (epoch ms); with `lease_ms`, whether it is live or lapsed. */
  heartbeat_at: number | null;
  lease_ms: number | null;
}

export interface CacheStats {
  renders: { status: string; count: number; bytes: number | null; costUsd: number | null }[];
  /** Media files whose hash and probe are remembered. */
  mediaFiles: number;
  uploads: number;
  runs: number;
  spentUsd: number;
  /** What the state itself takes on disk (0 for a server's). */
  storageBytes: number;
}

export interface StoredClip {
  key: string;
  episodeId: string;
  sceneId: string;
  clipPath: string | null;
  clipBytes: number | null;
  /** The latest of its render and of every run that rendered or hit it (epoch ms). */
  lastUsedAt: number;
}

/** Who may still be using the cache: an unfinished run whose process lives here, or a live claim's owner on another host. */
export type CacheUser = { kind: 'run'; id: number; pid: number } | { kind: 'remote'; host: string; pid: string };

/** The queries of `duologue status` and `duologue cache stats|verify|attach|gc`. */
export interface CacheAdmin {
  stats(): Promise<CacheStats>;
  /** Every complete render (what `cache verify` re-hashes). */
  completeRenders(): Promise<RenderRow[]>;
  /** Renders whose key starts with `prefix`, each with whether a live process holds its claim. */
  rendersByKeyPrefix(prefix: string): Promise<{ row: RenderRow; holderAlive: boolean }[]>;
  /**
   * Records a prediction found on the provider's dashboard for a key whose submit was ambiguous: the next run resumes it.
   * Only while the render still waits on that submit (and, with `seen`, is still in the state and hands it was read in):
   * false when a run took it over meanwhile, and nothing is written.
   */
  attach(key: string, predictionId: string, seen?: Pick<RenderRow, 'status' | 'owner'>): Promise<boolean>;
  /** The last `limit` runs, newest first; `running`: unfinished and its process still runs. */
  recentRuns(limit: number): Promise<{ run: RunRow; running: boolean }[]>;
  /**
   * The last `limit` workers, newest run first (`duologue status`): an
   * unnamed run is its own worker, a named run has one per process that
   * joined it. Each with its heartbeat, done scenes and open claims.
   */
  workers(limit: number): Promise<Worker[]>;
  /** Open renders whose claim's lease has lapsed (their worker stopped beating): the next claim takes them over. */
  lapsedClaims(): Promise<RenderRow[]>;
  /** Renders pending, submitting, in flight or ambiguous, oldest change first, each with whether a live process holds its claim. */
  openRenders(): Promise<{ row: RenderRow; holderAlive: boolean }[]>;
  /** Failed renders paid at least `paidAttempts` times without a usable clip. */
  heldRenders(paidAttempts: number): Promise<RenderRow[]>;
  /** Complete renders with their clip and when anything last used them, by episode and scene. */
  storedClips(): Promise<StoredClip[]>;
  /** Runs and claim owners that may still use the cache now. */
  activeUsers(): Promise<CacheUser[]>;
  /** Every key with a render row, whatever its state. */
  renderKeys(): Promise<Set<string>>;
  /** Prediction ids a later run will resume. */
  awaitedPredictions(): Promise<Set<string>>;
  /** Forgets a complete render (its clip is being removed): the next run that needs it renders it again. */
  dropRender(key: string): Promise<void>;
}

/** The parts of the state a transaction writes. */
export interface StoreParts {
  renders: RenderStore;
  ledger: RunLedger;
  files: FileMemo;
  /** The upload memo of one provider. */
  uploads(provider: string): UploadMemo;
}

/**
 * One cache's state. Its parts used directly each commit on their own;
 * `transaction` runs several writes as one commit.
 */
export interface Store extends StoreParts {
  /** Where the state lives, for messages. */
  readonly location: string;
  readonly admin: CacheAdmin;
  /** Who stitches each episode (outside transactions: a claim commits on its own). */
  readonly stitches: EpisodeStitches;
  /**
   * Runs `fn` as one commit: every write it makes through `tx` lands, or
   * (it throws) none does. Use only `tx` inside `fn`. A call through the
   * store's own parts meanwhile never joins it nor sees its writes before
   * the commit: on SQLite (one connection) it waits until the transaction
   * ends; on a server it runs beside it on another connection.
   */
  transaction<T>(fn: (tx: StoreParts) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** The cache directory: the whole state (embedded SQLite), or with `url` this machine's media memo. */
  dir: string;
  /**
   * `postgres://user:password@host:port/database`: the state shared by
   * workers on several machines lives on that server (the media memo stays
   * in `dir`). @default none: everything in `dir`
   */
  url?: string;
  /** The claim owner; @default a new `host:pid:start:nonce` */
  owner?: string;
  /** @default 30_000 */
  leaseMs?: number;
  /** The store's clock. @default Date.now; with `url`, the database server's clock (postgres/server-clock.ts) */
  now?: () => number;
  /** With `url` and no `now`: the local clock the server's is read against (tests skew it). @default performance.now */
  localClock?: () => number;
}

/** An episode's stitch: open (free, or held by `owner` while its lease lives) or written. */
export type StitchStatus = 'open' | 'written';

/** One episode output's stitch, as stored (keyed by the fingerprint of its inputs and target). */
export interface StitchRow {
  key: string;
  episode_id: string;
  /** Where the episode is written: a path (with its host) or an s3:// URL; never a secret. */
  target: string;
  status: StitchStatus;
  /** The named run (`--run`) that asked for it, when there is one. */
  run_id: number | null;
  owner: string | null;
  lease_until: number | null;
  /** The fencing token: one higher for every claim; `markWritten` applies only under the current one. */
  claim_epoch: number;
  /** Who wrote it, when, and what (the output's size and sha256). */
  written_by: string | null;
  written_at: number | null;
  output_bytes: number | null;
  output_sha256: string | null;
  created_at: number;
  updated_at: number;
}

export interface StitchRequest {
  /** Fingerprint of the episode's inputs: its ordered scene cache keys, format and output target. */
  key: string;
  episodeId: string;
  target: string;
  runId?: number;
}

export type StitchClaim =
  /** Ours: stitch it, then `markWritten` with this epoch. */
  | { kind: 'won'; epoch: number; row: StitchRow }
  /** Another live worker is stitching it (`row.owner`, until `row.lease_until`). */
  | { kind: 'held'; row: StitchRow }
  /** Written already, by `row.written_by` at `row.written_at`, to `row.target`: done for everyone. */
  | { kind: 'written'; row: StitchRow };

/**
 * Each episode output is stitched by one worker: the first claim wins and
 * holds a lease (renewed while it stitches); another worker sees it held, or
 * written once it is. A lapsed lease (or, on this host, a dead pid) lets the
 * next claim take it over with a higher epoch; the worker that lost it can no
 * longer mark it written. Keys are fingerprints of the inputs, so an unchanged
 * episode already written is done for every later run too.
 */
export interface EpisodeStitches {
  get(key: string): Promise<StitchRow | undefined>;
  claim(req: StitchRequest): Promise<StitchClaim>;
  /** Extends the claim's lease; false when it is no longer ours under `epoch` (stop, write nothing). */
  renew(key: string, epoch: number): Promise<boolean>;
  /** The output is in place and checked; false (nothing changes) when the claim under `epoch` was lost. */
  markWritten(key: string, epoch: number, output: { bytes: number; sha256: string }): Promise<boolean>;
  /** Gives the claim back unwritten (the stitch failed or was stopped): the next claim takes it. */
  release(key: string, epoch: number): Promise<void>;
  /**
   * A written output found missing or different: open again, so the next claim stitches it.
   * Only while still written under `epoch` (the row's as it was read); false when it changed meanwhile.
   */
  reopen(key: string, epoch: number): Promise<boolean>;
}
