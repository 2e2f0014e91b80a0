import { describe, expect, it } from 'vitest';
import { redactKey } from '../../pipeline/providers/wavespeed/redact.ts';

const KEY = 'sk-live-redact-0123456789';

describe('redactKey', () => {
  it('takes the key out of the message, a stack already formatted, and every cause', () => {
    const inner = new Error(`400: {"message":"got Bearer ${KEY}"}`);
    const outer = new Error(`submit failed: ${inner.message}`, { cause: inner });
    void outer.stack; // formatted now, with the key in it (a logger may have read it already)
    void inner.stack;
    redactKey(outer, KEY);
    for (const e of [outer, inner]) {
      expect(e.message).toContain('Bearer [redacted]');
      expect(e.stack).toContain('Bearer [redacted]');
      expect(`${e.message}${e.stack}`).not.toContain(KEY);
    }
  });

  it('ends on a cause cycle; leaves non-errors and an empty key alone', () => {
    const a = new Error(KEY);
    const b = new Error(KEY, { cause: a });
    (a as { cause?: unknown }).cause = b;
    redactKey(b, KEY);
    expect([a.message, b.message]).toEqual(['[redacted]', '[redacted]']);
    expect(() => redactKey('just a string', KEY)).not.toThrow();
    const c = new Error('nothing secret');
    redactKey(c, '');
    expect(c.message).toBe('nothing secret');
  });
});
