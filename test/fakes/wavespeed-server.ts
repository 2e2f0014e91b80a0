/**
 * A fake WaveSpeed: real HTTP on 127.0.0.1, the wire format of DESIGN.md,
 * real mp4 outputs (rendered with the local renderer), processing time
 * proportional to video length (scaled), a cap on tasks processing at once,
 * and faults on demand. Outputs and uploads are served from a second origin
 * (the "CDN") so tests can prove the key never goes there. Like the real API
 * it refuses a bad submit with a 400 and no task (submit-rules.ts: types,
 * enums, seed range, media URLs it cannot fetch), may forget uploads after a
 * TTL, and may answer output URLs with redirects.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, writeFile, readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ffprobe, runFfmpeg, type FfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { localRenderArgs } from '../../pipeline/providers/local/args.ts';
import { FakeAccount } from './wavespeed-account.ts';
import { AccountLimits, type AccountLimitOptions } from './account-limits.ts';
import { fieldProblem, mediaProblem, type OwnUpload } from './submit-rules.ts';
import { fakeSpeechArgs, fakeSpeechCharge, speechProblem } from './speech-rules.ts';

export const ROUTES = ['upload', 'submit', 'result', 'output', 'list', 'speech'] as const;
export type Route = (typeof ROUTES)[number];

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'reset' }
  | { kind: 'malformed' }
  | { kind: 'slow'; ms: number }
  | { kind: 'missing-id' }
  | { kind: 'code'; code: number; message: string }
  | { kind: 'fail'; error: string; code?: number } // submit: the prediction will end `failed` (with WaveSpeed's numeric code)
  | { kind: 'status-final'; status: 'cancelled' | 'timeout' }
  | { kind: 'empty-outputs' }
  | { kind: 'truncated' }
  | { kind: 'chunked' } // output: sent in two chunks with no content-length (as some CDNs do)
  | { kind: 'not-mp4' }
  | { kind: 'stretch'; seconds: number } // submit: the output runs this much longer (or shorter) than its audio
  | { kind: 'lost-answer' } // submit: the task is created, then the connection is cut before the answer
  | { kind: 'echo-key'; status: number }; // answers `status` with the request's Authorization header in its error body

export interface RecordedRequest {
  origin: 'api' | 'cdn';
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface Submission {
  id: string;
  body: Record<string, unknown>;
  /** Date.now() when the submit request arrived (before any scripted delay): which run sent it. */
  receivedAt: number;
}

interface PredictionState {
  id: string;
  status: 'created' | 'processing' | 'completed' | 'failed';
  error?: string;
  outputFile?: string;
  readyAt?: number;
  fault?: Fault;
  finalStatus?: string;
  startedAt?: number;
  videoSeconds?: number;
  resolution?: string;
  createdAt: number;
  body: Record<string, unknown>;
}

export interface FakeOptions {
  apiKey: string;
  ffmpeg: FfmpegPaths;
  workDir: string;
  /** Milliseconds of "processing" per second of video. @default 20 */
  msPerVideoSecond?: number;
  /** Tasks processing at once; the rest wait as `created`. @default 3 */
  maxConcurrent?: number;
  /** Seed for random fault rates. */
  seed?: number;
  /**
   * Serve this mp4 as every output instead of rendering one (load tests):
   * processing time then follows `cannedSeconds` of video.
   */
  cannedOutput?: string;
  cannedSeconds?: number;
  /** Keep request headers only for the last N requests (memory in long runs). @default all */
  keepRequests?: number;
  /** Seconds the n-th submission's output (0-based) runs past its audio; negative = shorter. @default none */
  lengthDeviation?: (submission: number) => number;
  /** A new prediction shows in the prediction list only this long after it was created (the real list may lag). @default 0 */
  listLagMs?: number;
  /** The account level's starts per window (account-limits.ts); set `maxConcurrent` to its tasks at once. @default unlimited */
  accountLimits?: AccountLimitOptions;
  /** Uploads are kept this long, then their URLs answer 404 and a submit naming one is refused. @default kept for the fake's life */
  uploadTtlMs?: number;
  /** The clock upload ages are read on (a test moves it instead of waiting). @default Date.now */
  clock?: () => number;
  /**
   * Output URLs answered by redirects to the file: the first hop on this
   * origin (`api`: the API's own, so a client that keeps its headers on a
   * redirect sends the key to the CDN), `hops` redirects in all. @default none
   */
  outputRedirect?: { from: 'api' | 'cdn'; hops?: number };
}

/**
 * What the fake bills, by its own rule (not duologue's code): a completed
 * prediction is charged by the length it delivered, at least 5 s, whole
 * seconds up; $0.03/s at 480p, $0.06/s at 720p. Failed predictions are free.
 */
export function fakeCharge(seconds: number, resolution: string): number {
  const billed = Math.max(5, Math.ceil(Math.round(seconds * 1000) / 1000));
  return Math.round(billed * (resolution === '720p' ? 0.06 : 0.03) * 10_000) / 10_000;
}

export class FakeWavespeed {
  readonly requests: RecordedRequest[] = [];
  readonly submissions: Submission[] = [];
  /** USD billed per prediction id (completed predictions only). */
  readonly charges = new Map<string, number>();
  /** Requests per route, counted whole even when `keepRequests` trims the log (benchmarks count polls). */
  readonly routeCounts: Record<Route, number> = { upload: 0, submit: 0, result: 0, output: 0, list: 0, speech: 0 };
  /** Speech tasks created (MiniMax Speech 02), apart from video submissions. */
  readonly speechSubmissions: Submission[] = [];
  apiUrl = '';
  cdnUrl = '';
  private api!: Server;
  private cdn!: Server;
  private scripted = new Map<Route, Fault[]>();
  private rateTable = new Map<Route, { fault: Fault; rate: number }[]>();
  /** One seeded stream per route: a route's n-th request draws the same number however requests on other routes interleave. */
  private streams = new Map<Route, () => number>();
  /** Faults served per route (scripted or drawn), so a test can show its faults really happened. */
  readonly injected = new Map<Route, number>();
  private predictions = new Map<string, PredictionState>();
  private media = new Map<string, string>(); // id → file
  private queue: PredictionState[] = [];
  private processing = 0;
  private counter = 0;
  private maxConcurrentSeen = 0;
  /** Upload id → when it was uploaded (on `clock`). */
  private mediaAt = new Map<string, number>();
  /** Predictions created and not yet final (queued or processing). */
  private open = new Set<string>();
  private maxOpenSeen = 0;
  /** While set, no prediction finishes (see hold()). */
  private gate?: { promise: Promise<void>; open: () => void };
  /** Starts accepted and refused under `accountLimits`. */
  readonly limits?: AccountLimits;

  /** Balance, price quotes, billing records (test/fakes/wavespeed-account.ts). */
  readonly account: FakeAccount;

  constructor(private options: FakeOptions) {
    this.account = new FakeAccount(options.ffmpeg, (u) => (this.ownUpload(u) === 'kept' ? this.media.get(/\/media\/([^/]+)\//.exec(u)![1]) : undefined));
    if (options.accountLimits) this.limits = new AccountLimits(options.accountLimits);
  }

  async start(): Promise<this> {
    await mkdir(path.join(this.options.workDir, 'media'), { recursive: true });
    this.api = createServer((req, res) => void this.handle('api', req, res));
    this.cdn = createServer((req, res) => void this.handle('cdn', req, res));
    // Long enough that undici reuses connections (it subtracts a 2 s threshold from the server's hint);
    // stop() closes every connection, so tests still exit at once.
    for (const s of [this.api, this.cdn]) s.keepAliveTimeout = 5_000;
    await Promise.all([listen(this.api), listen(this.cdn)]);
    this.apiUrl = `http://127.0.0.1:${(this.api.address() as AddressInfo).port}`;
    this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of [this.api, this.cdn]) s.closeAllConnections();
    await Promise.all([new Promise((r) => this.api.close(r)), new Promise((r) => this.cdn.close(r))]);
  }

  /** Faults for the next requests on a route, in order (one per request). */
  script(route: Route, ...faults: Fault[]): void {
    this.scripted.set(route, [...(this.scripted.get(route) ?? []), ...faults]);
  }

  /** Random faults on every request of a route, e.g. 20% 500s. */
  rates(route: Route, table: { fault: Fault; rate: number }[]): void {
    this.rateTable.set(route, table);
  }

  /** How many submissions carried each seed+inputs combination (for "exactly once"). */
  submitCount(): number {
    return this.submissions.length;
  }

  /** Everything billed so far. */
  get chargedUsd(): number {
    return Math.round([...this.charges.values()].reduce((a, b) => a + b, 0) * 10_000) / 10_000;
  }

  get peakConcurrency(): number {
    return this.maxConcurrentSeen;
  }

  /** Predictions created and not yet final, now. */
  get openPredictions(): number {
    return this.open.size;
  }

  /** The most predictions open (created and not yet final) at once: what a client's concurrency bounds. */
  get peakOpen(): number {
    return this.maxOpenSeen;
  }

  /** From now on no prediction finishes (they stay `processing`) until release(). */
  hold(): void {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    this.gate = { promise, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  private nextFault(route: Route): Fault | undefined {
    const fault = this.drawFault(route);
    if (fault) this.injected.set(route, (this.injected.get(route) ?? 0) + 1);
    return fault;
  }

  private drawFault(route: Route): Fault | undefined {
    const list = this.scripted.get(route);
    if (list && list.length > 0) return list.shift();
    const table = this.rateTable.get(route) ?? [];
    if (table.length === 0) return undefined;
    let rng = this.streams.get(route);
    if (!rng) this.streams.set(route, (rng = mulberry32((this.options.seed ?? 1) * 31 + ROUTES.indexOf(route))));
    for (const { fault, rate } of table) if (rng() < rate) return fault;
    return undefined;
  }

  private async handle(origin: 'api' | 'cdn', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ origin, method: req.method ?? '', path: url.pathname, headers: req.headers });
    if (this.options.keepRequests !== undefined && this.requests.length > this.options.keepRequests * 2) this.requests.splice(0, this.requests.length - this.options.keepRequests);
    try {
      if (url.pathname.startsWith('/redirect/')) return this.redirectOutput(origin, url.pathname, res);
      if (origin === 'cdn') return await this.serveCdn(url.pathname, req, res);
      if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) return json(res, 401, { code: 401, message: 'Unauthorized' });
      if (req.method === 'POST' && url.pathname === '/api/v3/media/upload/binary') return await this.counted('upload', () => this.upload(req, res));
      if (req.method === 'POST' && url.pathname === '/api/v3/wavespeed-ai/infinitetalk/multi') return await this.counted('submit', () => this.submit(req, res));
      const speech = /^\/api\/v3\/minimax\/(speech-02-hd|speech-02-turbo)$/.exec(url.pathname);
      if (req.method === 'POST' && speech) return await this.counted('speech', () => this.speechSubmit(speech[1], req, res));
      const m = /^\/api\/v3\/predictions\/([^/]+)\/result$/.exec(url.pathname);
      if (req.method === 'GET' && m) return await this.counted('result', () => this.result(decodeURIComponent(m[1]), req, res));
      if (req.method === 'POST' && url.pathname === '/api/v3/predictions') return await this.counted('list', () => this.list(req, res));
      if (await this.account.handle(req.method ?? '', url.pathname, async () => (await readBody(req)).toString('utf8'), req, res)) return;
      json(res, 404, { code: 404, message: 'not found' });
    } catch (error) {
      if (!res.headersSent) json(res, 500, { code: 500, message: String(error) });
    }
  }

  private counted(route: Route, handler: () => Promise<void>): Promise<void> {
    this.routeCounts[route]++;
    return handler();
  }

  /** Applies a transport-level fault; true when the request is answered (or killed) by it. */
  private async applyTransport(fault: Fault | undefined, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!fault) return false;
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return true;
    }
    if (fault.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      json(res, fault.status, fault.body ?? { code: fault.status, message: `fake ${fault.status}` }, headers);
      return true;
    }
    if (fault.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"code": 200, "data": {');
      return true;
    }
    if (fault.kind === 'code') {
      json(res, 200, { code: fault.code, message: fault.message, data: null });
      return true;
    }
    if (fault.kind === 'echo-key') {
      echoKey(req, res, fault.status);
      return true;
    }
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    return false;
  }

  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (await this.applyTransport(this.nextFault('upload'), req, res)) return;
    const form = await new Request('http://x/', { method: 'POST', headers: req.headers as HeadersInit, body: new Uint8Array(body) }).formData();
    const file = form.get('file');
    if (!(file instanceof Blob)) return json(res, 400, { code: 400, message: 'multipart field "file" is required' });
    const id = `m${++this.counter}`;
    const name = (file as File).name || 'upload.bin';
    const dest = path.join(this.options.workDir, 'media', `${id}-${name}`);
    await writeFile(dest, Buffer.from(await file.arrayBuffer()));
    this.media.set(id, dest);
    this.mediaAt.set(id, this.now());
    json(res, 200, { code: 200, message: 'success', data: { type: file.type || 'application/octet-stream', download_url: `${this.cdnUrl}/media/${id}/${encodeURIComponent(name)}`, filename: name, size: file.size } });
  }

  private async submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const text = (await readBody(req)).toString('utf8');
    const limited = this.limits?.admit(Date.now());
    if (limited && !limited.ok) return json(res, 429, { code: 429, message: 'Too Many Requests: rate limit exceeded for your account level' }, limited.headers);
    const fault = this.nextFault('submit');
    if (await this.applyTransport(fault, req, res)) return;
    const refused = await this.refusedSubmit(text);
    if (typeof refused === 'string') return json(res, 400, { code: 400, message: refused });
    const body = refused;
    const price = await this.account.refuses(body, res);
    if (price === true) return; // 402 insufficient balance: no task
    const id = `pred-${++this.counter}`;
    this.account.hold(id, price);
    const deviation = this.options.lengthDeviation?.(this.submissions.length) ?? 0;
    this.submissions.push({ id, body, receivedAt });
    const stretch = fault?.kind === 'stretch' ? fault.seconds : deviation;
    const state: PredictionState = {
      id,
      status: 'created',
      fault: fault ?? (stretch ? { kind: 'stretch', seconds: stretch } : undefined),
      resolution: String(body.resolution),
      createdAt: Date.now(),
      body,
    };
    this.predictions.set(id, state);
    this.open.add(id);
    this.maxOpenSeen = Math.max(this.maxOpenSeen, this.open.size);
    if (fault?.kind === 'missing-id') return json(res, 200, { code: 200, message: 'success', data: { model: 'wavespeed-ai/infinitetalk/multi', status: 'created' } });
    this.queue.push(state);
    this.pump(body);
    if (fault?.kind === 'lost-answer') {
      req.socket.destroy(); // created (and to be billed), but the client never hears of it
      return;
    }
    json(res, 200, {
      code: 200,
      message: 'success',
      data: { id, model: 'wavespeed-ai/infinitetalk/multi', status: 'created', urls: { get: `${this.apiUrl}/api/v3/predictions/${id}/result` }, outputs: [], created_at: new Date().toISOString() },
    });
  }

  /**
   * MiniMax Speech 02: refused like the real API (a 400, no task), else a
   * task that completes after `msPerVideoSecond` per second of audio with a
   * wav output, billed per character when it completes. Faults: transport
   * ones, `lost-answer`, `missing-id`, `fail`, `stretch` (the audio runs that much longer than the text's usual read).
   */
  private async speechSubmit(model: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const text = (await readBody(req)).toString('utf8');
    const fault = this.nextFault('speech');
    if (await this.applyTransport(fault, req, res)) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return json(res, 400, { code: 400, message: 'the request body is not valid JSON' });
    }
    const problem = speechProblem(body);
    if (problem) return json(res, 400, { code: 400, message: problem });
    const id = `speech-${++this.counter}`;
    this.speechSubmissions.push({ id, body: { ...body, model }, receivedAt });
    const state: PredictionState = { id, status: 'processing', fault, createdAt: Date.now(), body: { ...body, model } };
    this.predictions.set(id, state);
    this.open.add(id);
    void (async () => {
      try {
        const out = path.join(this.options.workDir, `${id}.wav`);
        const args = fakeSpeechArgs(String(body.text), Number(body.speed ?? 1), out, fault?.kind === 'stretch' ? fault.seconds : 0);
        await runFfmpeg(args, this.options.ffmpeg);
        state.videoSeconds = Number((await ffprobe(out, this.options.ffmpeg)).format.duration);
        await new Promise((r) => setTimeout(r, state.videoSeconds! * (this.options.msPerVideoSecond ?? 20)));
        state.outputFile = out;
        await this.gate?.promise;
        this.open.delete(id);
        if (fault?.kind === 'fail') {
          state.status = 'failed';
          state.error = fault.error;
        } else {
          state.status = 'completed';
          this.charges.set(id, Math.round(fakeSpeechCharge(String(body.text), model) * this.account.speechPriceFactor * 10_000) / 10_000);
        }
      } catch (error) {
        state.status = 'failed';
        state.error = `fake speech failed: ${(error as Error).message}`;
        this.open.delete(id);
      }
    })();
    if (fault?.kind === 'missing-id') return json(res, 200, { code: 200, message: 'success', data: { model: `minimax/${model}`, status: 'created' } });
    if (fault?.kind === 'lost-answer') {
      req.socket.destroy();
      return;
    }
    json(res, 200, { code: 200, message: 'success', data: { id, model: `minimax/${model}`, status: 'created', urls: { get: `${this.apiUrl}/api/v3/predictions/${id}/result` }, outputs: [], created_at: new Date().toISOString() } });
  }

  /** Starts queued tasks while under the concurrency cap; renders real output. */
  private pump(body?: Record<string, unknown>): void {
    const bodies = this.bodies;
    if (body) bodies.set(this.queue[this.queue.length - 1].id, body);
    while (this.processing < (this.options.maxConcurrent ?? 3) && this.queue.length > 0) {
      const state = this.queue.shift()!;
      this.processing++;
      this.maxConcurrentSeen = Math.max(this.maxConcurrentSeen, this.processing);
      state.status = 'processing';
      state.startedAt = Date.now();
      void this.process(state, bodies.get(state.id)!).finally(() => {
        this.processing--;
        this.pump();
      });
    }
  }
  private bodies = new Map<string, Record<string, unknown>>();

  private async process(state: PredictionState, body: Record<string, unknown>): Promise<void> {
    if (this.options.cannedOutput) {
      state.videoSeconds = this.options.cannedSeconds ?? 1;
      await new Promise((r) => setTimeout(r, state.videoSeconds! * (this.options.msPerVideoSecond ?? 20)));
      state.outputFile = this.options.cannedOutput;
      await this.gate?.promise;
      this.finish(state);
      return;
    }
    try {
      const file = async (u: unknown) => {
        const m = /\/media\/([^/]+)\//.exec(String(u));
        const own = m && this.media.get(m[1]);
        if (own) return own;
        // Like the real API, fetch inputs given as URLs (follows redirects).
        const res = await fetch(String(u));
        if (!res.ok) throw new Error(`input ${String(u)}: ${res.status}`);
        const dest = path.join(this.options.workDir, 'media', `url-${++this.counter}${path.extname(new URL(String(u)).pathname)}`);
        await writeFile(dest, Buffer.from(await res.arrayBuffer()));
        return dest;
      };
      const [image, left, right] = await Promise.all([file(body.image), file(body.left_audio), file(body.right_audio)]);
      const [ip, lp, rp] = await Promise.all([image, left, right].map((f) => ffprobe(f, this.options.ffmpeg)));
      const v = ip.streams.find((s) => s.codec_type === 'video')!;
      const ms = (p: typeof lp) => Math.round(Number(p.format.duration) * 1000);
      const order = body.order as 'meanwhile' | 'left_right' | 'right_left';
      // A stretched output: each side's track is taken as that much longer (or shorter), so the video is too.
      const extra = state.fault?.kind === 'stretch' ? Math.round(state.fault.seconds * 1000) : 0;
      const leftMs = Math.max(1, ms(lp) + extra);
      const rightMs = Math.max(1, order === 'meanwhile' ? ms(rp) + extra : ms(rp));
      const videoMs = order === 'meanwhile' ? Math.max(leftMs, rightMs) : leftMs + rightMs;
      state.videoSeconds = videoMs / 1000;
      const out = path.join(this.options.workDir, `${state.id}.mp4`);
      await runFfmpeg(
        localRenderArgs({ image, imageWidth: v.width!, imageHeight: v.height!, left, right, leftMs, rightMs, order, resolution: body.resolution as '480p', out }),
        this.options.ffmpeg,
      );
      // Billed by what it delivers, measured as a client would.
      state.videoSeconds = Number((await ffprobe(out, this.options.ffmpeg)).format.duration);
      const wait = state.startedAt! + state.videoSeconds * (this.options.msPerVideoSecond ?? 20) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      state.outputFile = out;
      await this.gate?.promise;
      this.finish(state);
    } catch (error) {
      state.status = 'failed';
      state.error = `fake render failed: ${(error as Error).message}`;
      this.open.delete(state.id);
    }
  }

  private finish(state: PredictionState): void {
    this.open.delete(state.id);
    if (state.fault?.kind === 'fail') {
      state.status = 'failed';
      state.error = state.fault.error;
      this.account.settle(state.id, undefined);
    } else if (state.fault?.kind === 'status-final') {
      state.status = 'failed';
      state.finalStatus = state.fault.status;
      state.error = `task ${state.fault.status}`;
      this.account.settle(state.id, undefined);
    } else {
      state.status = 'completed';
      this.charges.set(state.id, this.account.settle(state.id, fakeCharge(state.videoSeconds ?? 0, state.resolution ?? '480p'), state.resolution ?? '480p'));
    }
  }

  /** The account's predictions, newest first, filtered by creation time and model, paged. */
  private async list(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = (await readBody(req)).toString('utf8');
    if (await this.applyTransport(this.nextFault('list'), req, res)) return;
    const q = JSON.parse(text || '{}') as { page?: number; page_size?: number; created_after?: string; created_before?: string; model?: string };
    const after = q.created_after ? Date.parse(q.created_after) : -Infinity;
    const before = q.created_before ? Date.parse(q.created_before) : Infinity;
    const visibleBefore = Date.now() - (this.options.listLagMs ?? 0);
    const all = [...this.predictions.values()]
      .filter((p) => p.createdAt >= after && p.createdAt <= before && p.createdAt <= visibleBefore)
      .filter(() => !q.model || q.model === 'wavespeed-ai/infinitetalk/multi')
      .sort((a, b) => b.createdAt - a.createdAt);
    const size = Math.max(1, Math.min(100, q.page_size ?? 20));
    const page = Math.max(1, q.page ?? 1);
    const items = all.slice((page - 1) * size, page * size).map((p) => ({
      id: p.id,
      model: 'wavespeed-ai/infinitetalk/multi',
      status: p.finalStatus ?? p.status,
      inputs: p.body,
      outputs: p.status === 'completed' && p.fault?.kind !== 'empty-outputs' ? [this.outputUrl(p.id)] : [],
      created_at: new Date(p.createdAt).toISOString(),
      error: p.error ?? '',
    }));
    json(res, 200, { code: 200, message: 'success', data: { page, items } });
  }

  private async result(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await this.applyTransport(this.nextFault('result'), req, res)) return;
    const state = this.predictions.get(id);
    if (!state) return json(res, 404, { code: 404, message: `prediction ${id} not found` });
    const outputs = state.status === 'completed' && state.fault?.kind !== 'empty-outputs' ? [this.outputUrl(id)] : [];
    json(res, 200, {
      code: 200,
      message: 'success',
      data: {
        id,
        model: 'wavespeed-ai/infinitetalk/multi',
        status: state.finalStatus ?? state.status,
        outputs,
        error: state.error ?? '',
        ...(state.fault?.kind === 'fail' && state.fault.code !== undefined ? { code: state.fault.code } : {}),
        has_nsfw_contents: outputs.map(() => false),
        created_at: new Date().toISOString(),
        timings: { inference: state.videoSeconds ? Math.round(state.videoSeconds * 20_000) : 0 }, // milliseconds, as the real API
      },
    });
  }

  // ---- Submit checks, upload ages and output redirects (the real API's ways, not faults) ----

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Whether a URL is one of this fake's uploads, and whether it is still kept. */
  private ownUpload(url: string): OwnUpload {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not-own';
    }
    const m = /^\/media\/([^/]+)\//.exec(parsed.pathname);
    if (parsed.origin !== this.cdnUrl || !m) return 'not-own';
    const at = this.mediaAt.get(m[1]);
    if (at === undefined || !this.media.has(m[1])) return 'unknown';
    const ttl = this.options.uploadTtlMs;
    return ttl !== undefined && this.now() - at >= ttl ? 'expired' : 'kept';
  }

  /** The submit's body when the API would take it, else the message of its 400 (nothing is created). */
  private async refusedSubmit(text: string): Promise<Record<string, unknown> | string> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return 'the request body is not valid JSON';
    }
    const problem = fieldProblem(body) ?? (await mediaProblem(body as Record<string, unknown>, (u) => this.ownUpload(u)));
    return problem ?? (body as Record<string, unknown>);
  }

  /** A completed prediction's output URL: the file itself, or the first of `outputRedirect`'s hops. */
  private outputUrl(id: string): string {
    if (id.startsWith('speech-')) return `${this.cdnUrl}/outputs/${id}.wav`;
    const r = this.options.outputRedirect;
    if (!r) return `${this.cdnUrl}/outputs/${id}.mp4`;
    return `${r.from === 'api' ? this.apiUrl : this.cdnUrl}/redirect/${r.hops ?? 1}/outputs/${id}.mp4`;
  }

  /** `/redirect/N/outputs/ID.mp4`: a 302 to the next hop (on the CDN), the last one to the file. */
  private redirectOutput(origin: 'api' | 'cdn', pathname: string, res: ServerResponse): void {
    const m = /^\/redirect\/(\d+)\/outputs\/([^/]+)\.mp4$/.exec(pathname);
    if (!m) return json(res, 404, { code: 404, message: 'not found' });
    const left = Number(m[1]) - 1;
    const next = left > 0 ? `/redirect/${left}/outputs/${m[2]}.mp4` : `/outputs/${m[2]}.mp4`;
    // From the API's origin the location must name the CDN; on the CDN a relative one is enough (and must be resolved).
    res.writeHead(302, { location: origin === 'api' ? `${this.cdnUrl}${next}` : next, 'content-length': '0' }).end();
  }

  private async serveCdn(pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const out = /^\/outputs\/([^/]+)\.(?:mp4|wav)$/.exec(pathname);
    if (out) {
      this.routeCounts.output++;
      const fault = this.nextFault('output');
      if (await this.applyTransport(fault, req, res)) return;
      const state = this.predictions.get(out[1]);
      if (!state?.outputFile) return json(res, 404, { code: 404, message: 'no such output' });
      let bytes = await readFile(state.outputFile);
      if (fault?.kind === 'not-mp4') bytes = Buffer.from('<html>not a video</html>');
      if (fault?.kind === 'truncated') {
        // Announce the full length, send half, then cut the connection.
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length) });
        res.write(bytes.subarray(0, bytes.length >> 1));
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      if (fault?.kind === 'chunked') {
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.write(bytes.subarray(0, bytes.length >> 1));
        res.end(bytes.subarray(bytes.length >> 1));
        return;
      }
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(bytes.length) }).end(bytes);
      return;
    }
    const media = /^\/media\/([^/]+)\//.exec(pathname);
    const file = media && this.ownUpload(`${this.cdnUrl}${pathname}`) === 'kept' && this.media.get(media[1]);
    if (file && (await stat(file).catch(() => null))) {
      res.writeHead(200).end(await readFile(file));
      return;
    }
    json(res, 404, { code: 404, message: 'not found' });
  }
}

/** An API that puts what it was sent into its error: the client must never show the key it finds there. */
function echoKey(req: IncomingMessage, res: ServerResponse, status: number): void {
  json(res, status, { code: status, message: `request refused (sent with authorization: ${req.headers.authorization ?? 'none'})` });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

/** Small seeded PRNG so fault mixes repeat run to run. */
export function mulberry32(seed: number): () => number {
  // Mix the seed first: small seeds (1, 2, 13) otherwise start with correlated draws.
  let a = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
