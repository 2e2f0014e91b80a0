/**
 * The fake WaveSpeed refuses a bad submit the way the real API does (400
 * `{code, message}`, no task), so a client that sends a wrong type, an
 * unknown enum value or a URL the provider cannot fetch fails here, not in
 * production. Requests are made by hand: these are the fake's rules.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeOptions, FakeWavespeed } from './wavespeed-server.ts';
import { KEY, startFake } from '../helpers/engine.ts';

const media = path.join(import.meta.dirname, '../fixtures/media');
const SUBMIT = '/api/v3/wavespeed-ai/infinitetalk/multi';
const fakes: FakeWavespeed[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** A foreign host: `/tone.wav` is there, anything else is a 404. */
let foreign: Server;
let foreignUrl = '';
beforeAll(async () => {
  foreign = createServer((req, res) => {
    if (req.url === '/tone.wav') res.writeHead(200, { 'content-type': 'audio/wav' }).end(readFileSync(path.join(media, 'tone-1s.wav')));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => foreign.close(r)));

async function setup(options: Partial<FakeOptions> = {}) {
  const fake = await startFake(options);
  fakes.push(fake);
  const upload = async (file: string): Promise<string> => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(path.join(media, file))]), file);
    const res = await fetch(`${fake.apiUrl}/api/v3/media/upload/binary`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: form });
    return ((await res.json()) as { data: { download_url: string } }).data.download_url;
  };
  const [image, audio] = await Promise.all([upload('two-people.png'), upload('tone-1s.wav')]);
  const good = { image, left_audio: audio, right_audio: audio, prompt: 'two people', order: 'meanwhile', resolution: '480p', seed: 7 };
  const post = async (route: string, body: unknown) => {
    const res = await fetch(`${fake.apiUrl}${route}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { code: number; message: string } };
  };
  return { fake, good, submit: (body: unknown) => post(SUBMIT, body), quote: (inputs: unknown) => post('/api/v3/model/price', { model_id: 'wavespeed-ai/infinitetalk/multi', inputs }) };
}

describe('the fake refuses bad submits like the real API', () => {
  it('checks types, enums and the seed range; a refused submit creates no task', async () => {
    const { fake, good, submit } = await setup();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ order: 'sideways' }, /^order must be one of meanwhile, left_right, right_left, got "sideways"$/],
      [{ order: 1 }, /^order must be one of/],
      [{ resolution: '1080p' }, /^resolution must be one of 480p, 720p, got "1080p"$/],
      [{ seed: 2_147_483_648 }, /^seed must be an integer from -1 to 2147483647, got 2147483648$/],
      [{ seed: -2 }, /^seed must be an integer/],
      [{ seed: 1.5 }, /^seed must be an integer/],
      [{ seed: '7' }, /^seed must be an integer.*got "7"$/],
      [{ prompt: 42 }, /^prompt must be a string, got 42$/],
      [{ image: 'two-people.png' }, /^image must be an http\(s\) URL, got "two-people\.png"$/],
      [{ left_audio: null }, /^left_audio must be an http\(s\) URL, got null$/],
      [{ right_audio: undefined }, /^right_audio is required$/],
    ];
    for (const [change, message] of bad) {
      const res = await submit({ ...good, ...change });
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(res.body.code).toBe(400);
      expect(res.body.message, JSON.stringify(change)).toMatch(message);
    }
    expect(fake.submissions).toHaveLength(0);
    // The edges of the range, and no prompt at all, are fine.
    for (const change of [{ seed: -1 }, { seed: 2_147_483_647 }, { prompt: undefined }, { order: 'right_left', resolution: '720p' }]) {
      expect((await submit({ ...good, ...change })).status, JSON.stringify(change)).toBe(200);
    }
    expect(fake.submissions).toHaveLength(4);
  });

  it('fetches media URLs it does not hold: a 404 or an unknown upload is refused (also when outputs are canned)', async () => {
    const { fake, good, submit } = await setup({ cannedOutput: path.join(media, 'missing.mp4') });
    expect((await submit({ ...good, right_audio: `${foreignUrl}/tone.wav` })).status).toBe(200);
    const gone = await submit({ ...good, left_audio: `${foreignUrl}/gone.wav` });
    expect(gone).toEqual({ status: 400, body: { code: 400, message: `left_audio: cannot fetch ${foreignUrl}/gone.wav: 404` } });
    const unknown = good.image.replace(/\/media\/[^/]+\//, '/media/m999/');
    expect((await submit({ ...good, image: unknown })).body.message).toBe(`image: cannot fetch ${unknown}: no such upload`);
    expect(fake.submissions).toHaveLength(1);
  });

  it('forgets uploads after their TTL: the URL answers 404, a submit or price quote naming it is refused', async () => {
    let now = 1_000_000;
    const { fake, good, submit, quote } = await setup({ uploadTtlMs: 60_000, clock: () => now });
    expect((await submit(good)).status).toBe(200);
    expect((await quote(good)).status).toBe(200);
    now += 60_000;
    const refused = await submit(good);
    expect(refused).toEqual({ status: 400, body: { code: 400, message: `image: cannot fetch ${good.image}: the upload has expired` } });
    expect((await quote(good)).status).toBe(400);
    expect((await fetch(good.left_audio)).status).toBe(404);
    expect(fake.submissions).toHaveLength(1);
  });
});
