/**
 * The fake WaveSpeed's account: a balance that each completed prediction's
 * charge takes down, price quotes, billing records, and the refusal of a
 * submit the balance cannot pay. The server routes `/api/v3/balance`,
 * `/api/v3/model/price` and `/api/v3/billings/search` here and asks
 * `refuses()` before it creates a task.
 *
 * Prices follow the fake's own billing rule (`fakeCharge`), times
 * `priceFactor`: set it to make WaveSpeed's prices differ from duologue's
 * table (quotes and real charges move together, as they would).
 */
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ffprobe, type FfmpegPaths } from '../../pipeline/media/ffmpeg.ts';
import { fakeSpeechCharge } from './speech-rules.ts';

export type AccountRoute = 'balance' | 'price' | 'billings';

export type AccountFault =
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'reset' }
  | { kind: 'malformed' }
  | { kind: 'code'; code: number; message: string };

export interface BillingRecord {
  uuid: string;
  billing_type: string;
  price: number;
  created_at: string;
  prediction: { uuid: string; status: string };
}

/** Charged like `fakeCharge` in wavespeed-server.ts (kept apart so the two modules do not import each other). */
function charge(seconds: number, resolution: string): number {
  const billed = Math.max(5, Math.ceil(Math.round(seconds * 1000) / 1000));
  return billed * (resolution === '720p' ? 0.06 : 0.03);
}

const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

export class FakeAccount {
  /** USD left; each completed prediction's charge is taken from it. @default 1,000,000 (load tests never run dry) */
  balanceUsd = 1_000_000;
  /** WaveSpeed's prices against the fake's base rule (1 = the table duologue ships). */
  priceFactor = 1;
  /** WaveSpeed's speech prices (MiniMax) against the fake's base rule; quotes and charges move together. */
  speechPriceFactor = 1;
  /** The same, for one resolution only (over `priceFactor`). */
  priceFactors: Partial<Record<string, number>> = {};
  /** Quote a `discounted_price` of this fraction of the price (e.g. 0.8), or none. */
  discount: number | undefined;
  readonly billings: BillingRecord[] = [];
  /** Submits refused for lack of balance. */
  refused = 0;
  /** Bodies of price quotes asked for. */
  readonly quotes: Record<string, unknown>[] = [];
  private faults = new Map<AccountRoute, AccountFault[]>();
  /** Price held for each task submitted and not yet finished (the balance must cover them all). */
  private holds = new Map<string, number>();
  private counter = 0;
  /** Audio lengths by file (a load test submits the same few files thousands of times). */
  private lengths = new Map<string, Promise<number>>();

  constructor(
    private ffmpeg: FfmpegPaths,
    /** Local file of an uploaded media URL, when the fake has it. */
    private mediaFile: (url: string) => string | undefined,
  ) {}

  /** Faults for the next requests on a route, in order. */
  script(route: AccountRoute, ...faults: AccountFault[]): void {
    this.faults.set(route, [...(this.faults.get(route) ?? []), ...faults]);
  }

  /** Answers one of the account routes; false when the path is not one of them. */
  async handle(method: string, pathname: string, body: () => Promise<string>, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const route: AccountRoute | undefined =
      method === 'GET' && pathname === '/api/v3/balance' ? 'balance'
      : method === 'POST' && pathname === '/api/v3/model/price' ? 'price'
      : method === 'POST' && pathname === '/api/v3/billings/search' ? 'billings'
      : undefined;
    if (!route) return false;
    const text = method === 'POST' ? await body() : '';
    const fault = this.faults.get(route)?.shift();
    if (fault) {
      if (fault.kind === 'reset') req.socket.destroy();
      else if (fault.kind === 'malformed') res.writeHead(200, { 'content-type': 'application/json' }).end('{"code": 200, "data": {');
      else if (fault.kind === 'code') send(res, 200, { code: fault.code, message: fault.message, data: null });
      else send(res, fault.status, fault.body ?? { code: fault.status, message: `fake ${fault.status}` });
      return true;
    }
    if (route === 'balance') send(res, 200, { code: 200, message: 'success', data: { balance: round(this.balanceUsd) } });
    else if (route === 'price') await this.quote(JSON.parse(text) as { model_id?: string; inputs?: Record<string, unknown> }, res);
    else this.search(JSON.parse(text) as Record<string, unknown>, res);
    return true;
  }

  /** The price WaveSpeed would charge for a submit body (from its audio's real lengths). */
  async priceOf(inputs: Record<string, unknown>): Promise<number> {
    const seconds = async (u: unknown) => {
      let file = typeof u === 'string' ? this.mediaFile(u) : undefined;
      if (!file && typeof u === 'string' && /^https?:\/\//.test(u)) file = await this.fetched(u); // like the real API, inputs given as URLs are fetched
      if (!file) throw new Error(`cannot read media ${String(u)}`);
      if (!this.lengths.has(file)) this.lengths.set(file, ffprobe(file, this.ffmpeg).then((p) => Number(p.format.duration)));
      return this.lengths.get(file)!;
    };
    const [l, r] = await Promise.all([seconds(inputs.left_audio), seconds(inputs.right_audio)]);
    const video = inputs.order === 'meanwhile' ? Math.max(l, r) : l + r;
    return round(charge(video, String(inputs.resolution)) * this.factorFor(String(inputs.resolution)));
  }

  private fetchedFiles = new Map<string, Promise<string>>();

  /** A URL input, fetched once (following redirects) into a temp file. */
  private fetched(url: string): Promise<string> {
    let file = this.fetchedFiles.get(url);
    if (!file) {
      file = (async () => {
        const res = await fetch(url);
        if (!res.ok) throw new Error(`cannot read media ${url}: ${res.status}`);
        const dest = path.join(mkdtempSync(path.join(tmpdir(), 'dl-fake-price-')), path.basename(new URL(url).pathname) || 'input');
        await writeFile(dest, Buffer.from(await res.arrayBuffer()));
        return dest;
      })();
      this.fetchedFiles.set(url, file);
    }
    return file;
  }

  /**
   * Before a task is created: refused (HTTP 402, "insufficient balance") when
   * the balance, less what the tasks already running may cost, cannot pay it.
   * A refused submit creates no task. True when it answered.
   */
  async refuses(body: Record<string, unknown>, res: ServerResponse): Promise<number | true> {
    const price = await this.priceOf(body).catch(() => 0);
    const held = [...this.holds.values()].reduce((a, b) => a + b, 0);
    if (round(this.balanceUsd - held) < price) {
      this.refused++;
      send(res, 402, { code: 402, message: `insufficient balance: $${round(this.balanceUsd - held).toFixed(2)} available, this task costs $${price.toFixed(2)}` });
      return true;
    }
    return price;
  }

  /** A task was created that the balance covers until it ends. */
  hold(id: string, usd: number): void {
    this.holds.set(id, usd);
  }

  private factorFor(resolution: string): number {
    return this.priceFactors[resolution] ?? this.priceFactor;
  }

  /** A task ended: a completed one is charged (taken from the balance and billed); returns the charge. */
  settle(id: string, baseUsd: number | undefined, resolution = '480p'): number {
    this.holds.delete(id);
    if (baseUsd === undefined) return 0;
    const usd = round(baseUsd * this.factorFor(resolution));
    this.balanceUsd = round(this.balanceUsd - usd);
    this.billings.push({ uuid: `bill-${++this.counter}`, billing_type: 'prediction', price: usd, created_at: new Date().toISOString(), prediction: { uuid: id, status: 'completed' } });
    return usd;
  }

  private async quote(body: { model_id?: string; inputs?: Record<string, unknown> }, res: ServerResponse): Promise<void> {
    this.quotes.push(body as Record<string, unknown>);
    const speech = /^minimax\/(speech-02-hd|speech-02-turbo)$/.exec(body.model_id ?? '');
    if (speech && typeof body.inputs?.text === 'string') {
      const price = round(fakeSpeechCharge(body.inputs.text, speech[1]) * this.speechPriceFactor);
      return send(res, 200, { code: 200, message: 'success', data: { model_id: body.model_id, price, discounted_price: price, currency: 'USD' } });
    }
    if (body.model_id !== 'wavespeed-ai/infinitetalk/multi' || !body.inputs) return send(res, 400, { code: 400, message: 'model_id and inputs are required' });
    let price: number;
    try {
      price = await this.priceOf(body.inputs);
    } catch (error) {
      return send(res, 400, { code: 400, message: (error as Error).message });
    }
    const discounted = this.discount === undefined ? price : round(price * this.discount);
    send(res, 200, { code: 200, message: 'success', data: { model_id: body.model_id, price, discounted_price: discounted, currency: 'USD' } });
  }

  private search(body: Record<string, unknown>, res: ServerResponse): void {
    const page = Number(body.page ?? 1);
    const size = Number(body.page_size ?? 20);
    const from = Date.parse(String(body.start_time ?? '')) || 0;
    const to = Date.parse(String(body.end_time ?? '')) || Number.MAX_SAFE_INTEGER;
    const all = this.billings.filter((b) => Date.parse(b.created_at) >= from && Date.parse(b.created_at) <= to);
    const items = all.slice((page - 1) * size, page * size);
    send(res, 200, { code: 200, message: 'success', data: { page, has_more: page * size < all.length, items } });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }).end(text);
}
