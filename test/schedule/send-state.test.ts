/**
 * Whether a submit whose answer is unknown may still create a task
 * (lost-answer.ts `sendState`): only a request proven over lets anyone look
 * for its task and, finding none, pay again; the looks count from the last
 * moment any of it could have been on its way.
 */
import { hostname } from 'node:os';
import { expect, it } from 'vitest';
import { closedRecord, sendState, type RecordedSubmit } from '../../pipeline/schedule/lost-answer.ts';

const base: RecordedSubmit = { model: 'm', at: 1_000, sendBy: 1_500, body: {} };
const never = () => false;
const always = () => true;

it('an end recorded by its sender settles it, no later than its send deadline', () => {
  expect(sendState({ ...base, sender: 'far:1:1:a', closedAt: 9_000 }, 20_000, never)).toEqual({ kind: 'settled', latestSend: 1_500 });
  expect(sendState({ ...base, sendBy: undefined, sender: 'far:1:1:a', closedAt: 9_000 }, 20_000, never)).toEqual({ kind: 'settled', latestSend: 9_000 });
  // Cut unsent at once: the end is the bound.
  expect(sendState({ ...base, sender: 'far:1:1:a', closedAt: 1_200 }, 20_000, never)).toEqual({ kind: 'settled', latestSend: 1_200 });
});

it('a sender proven gone settles it; one that may be paused leaves it open, however long ago it began', () => {
  expect(sendState({ ...base, sender: 'here:1:1:a' }, 20_000, always)).toEqual({ kind: 'settled', latestSend: 1_500 });
  expect(sendState({ ...base, sender: 'far:1:1:a' }, 10 * 86_400_000, never)).toEqual({ kind: 'open', sender: 'far:1:1:a' });
});

it('records from before senders were named are looked up as before', () => {
  expect(sendState({ model: 'm', at: 1_000, body: {} }, 20_000, never)).toEqual({ kind: 'legacy' });
});

it('closedRecord keeps the record and adds its end', () => {
  const sent = JSON.stringify({ ...base, sender: `${hostname()}:1:1:a` });
  expect(JSON.parse(closedRecord(sent, 7_000))).toEqual({ ...JSON.parse(sent), closedAt: 7_000 });
});

it("another machine's times are read on the reader's clock through the store's: a sender 2 min behind does not shorten the window", () => {
  // The sender's clock reads 2 min behind the store's, the reader's is on time: its end was 2 min later than it says.
  const sent: RecordedSubmit = { ...base, sendBy: undefined, sender: 'far:1:1:a', closedAt: 10_000, storeOffset: 120_000 };
  expect(sendState(sent, 500_000, never, 0)).toEqual({ kind: 'settled', latestSend: 130_000 });
  // Read on the sender's own clock: as recorded.
  expect(sendState(sent, 500_000, never, 120_000)).toEqual({ kind: 'settled', latestSend: 10_000 });
  // Without both offsets, nothing is shifted.
  expect(sendState({ ...sent, storeOffset: undefined }, 500_000, never, 0)).toEqual({ kind: 'settled', latestSend: 10_000 });
});
