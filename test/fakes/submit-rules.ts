/**
 * What the fake WaveSpeed checks in a submit before it creates a task, the
 * way the real API refuses a bad one: HTTP 400 `{code: 400, message}` and no
 * task. The fake's own reading of the docs (DESIGN.md, "WaveSpeed API"), not
 * duologue's code: field types, enums, the seed's range, and that every media
 * URL can be fetched now (an upload it no longer keeps, or a 404, is refused).
 */

export const MEDIA_FIELDS = ['image', 'left_audio', 'right_audio'] as const;
const ORDERS = ['meanwhile', 'left_right', 'right_left'];
const RESOLUTIONS = ['480p', '720p'];
const SEED_MIN = -1; // -1: the API draws one
const SEED_MAX = 2_147_483_647;

/** The first thing wrong with a submit body's fields (not its media), or undefined. */
export function fieldProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the request body must be a JSON object';
  const b = body as Record<string, unknown>;
  for (const field of [...MEDIA_FIELDS, 'order', 'resolution', 'seed']) {
    if (b[field] === undefined) return `${field} is required`;
  }
  for (const field of MEDIA_FIELDS) {
    if (typeof b[field] !== 'string' || !/^https?:\/\/[^/]/i.test(b[field])) return `${field} must be an http(s) URL, got ${show(b[field])}`;
  }
  if (b.prompt !== undefined && typeof b.prompt !== 'string') return `prompt must be a string, got ${show(b.prompt)}`;
  if (typeof b.order !== 'string' || !ORDERS.includes(b.order)) return `order must be one of ${ORDERS.join(', ')}, got ${show(b.order)}`;
  if (typeof b.resolution !== 'string' || !RESOLUTIONS.includes(b.resolution)) return `resolution must be one of ${RESOLUTIONS.join(', ')}, got ${show(b.resolution)}`;
  if (typeof b.seed !== 'number' || !Number.isInteger(b.seed) || b.seed < SEED_MIN || b.seed > SEED_MAX) {
    return `seed must be an integer from ${SEED_MIN} to ${SEED_MAX}, got ${show(b.seed)}`;
  }
  return undefined;
}

/**
 * Where a media URL stands: `own` for one of the fake's uploads (looked up,
 * not fetched: a load test submits thousands), else fetched like the real API
 * would (HEAD, or GET when HEAD is not allowed; redirects followed).
 */
export type OwnUpload = 'kept' | 'expired' | 'unknown' | 'not-own';

/** The first media URL of a (well-typed) body that cannot be fetched, as the 400's message. */
export async function mediaProblem(body: Record<string, unknown>, own: (url: string) => OwnUpload): Promise<string | undefined> {
  const problems = await Promise.all(
    MEDIA_FIELDS.map(async (field) => {
      const url = String(body[field]);
      const status = own(url);
      if (status === 'kept') return undefined;
      if (status === 'expired') return `${field}: cannot fetch ${url}: the upload has expired`;
      if (status === 'unknown') return `${field}: cannot fetch ${url}: no such upload`;
      const code = await fetchStatus(url);
      return code >= 200 && code < 300 ? undefined : `${field}: cannot fetch ${url}: ${code || 'unreachable'}`;
    }),
  );
  return problems.find((p) => p !== undefined);
}

async function fetchStatus(url: string): Promise<number> {
  try {
    const head = await fetch(url, { method: 'HEAD', redirect: 'follow' });
    if (head.status !== 405 && head.status !== 501) return head.status;
    const get = await fetch(url, { redirect: 'follow' });
    await get.body?.cancel();
    return get.status;
  } catch {
    return 0;
  }
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
