/**
 * The fake's MiniMax Speech 02: what it refuses (as the real API, a 400 and
 * no task) and what it bills, by its own rule (not duologue's code):
 * characters in code points × $0.05 (hd) or $0.03 (turbo) per 1,000.
 */
export const FAKE_SPEECH_PRICES: Record<string, number> = { 'speech-02-hd': 0.05, 'speech-02-turbo': 0.03 };

export function fakeSpeechCharge(text: string, model: string): number {
  return Math.round(([...text].length / 1000) * FAKE_SPEECH_PRICES[model] * 10_000) / 10_000;
}

export function speechProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return 'the request body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.text !== 'string' || b.text.length === 0) return 'text is required';
  if ([...b.text].length > 5000) return 'text must be at most 5000 characters';
  if (typeof b.voice_id !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{2,255}$/.test(b.voice_id)) return `voice_id ${JSON.stringify(b.voice_id)} is not a voice`;
  if (b.speed !== undefined && (typeof b.speed !== 'number' || b.speed < 0.5 || b.speed > 2)) return 'speed must be from 0.5 to 2';
  if (b.pitch !== undefined && (typeof b.pitch !== 'number' || !Number.isInteger(b.pitch) || b.pitch < -12 || b.pitch > 12)) return 'pitch must be an integer from -12 to 12';
  if (b.volume !== undefined && (typeof b.volume !== 'number' || b.volume <= 0 || b.volume > 10)) return 'volume must be above 0, up to 10';
  return undefined;
}

/** ffmpeg args for the fake's "speech": a tone of ~14 characters a second (at least 0.3 s), `extraSeconds` longer (a slow, pause-heavy read). */
export function fakeSpeechArgs(text: string, speed: number, out: string, extraSeconds = 0): string[] {
  const seconds = Math.max(0.3, [...text].length / 14 / speed + extraSeconds);
  return ['-f', 'lavfi', '-i', `sine=frequency=260:sample_rate=24000:duration=${seconds.toFixed(3)}`, '-ac', '1', '-c:a', 'pcm_s16le', out];
}
