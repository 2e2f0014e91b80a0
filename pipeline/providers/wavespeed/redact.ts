/**
 * Takes the API key out of an error before it leaves the client: an API may
 * echo what it was sent (headers included) in an error body, and that body
 * ends up in messages, logs, the run report and the cache. The stack (shown
 * with DUOLOGUE_DEBUG) repeats the message, and causes are errors too.
 */
export function redactKey(error: unknown, key: string): void {
  if (!key) return;
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (e.message.includes(key)) e.message = e.message.split(key).join('[redacted]');
    if (e.stack?.includes(key)) e.stack = e.stack.split(key).join('[redacted]');
  }
}
