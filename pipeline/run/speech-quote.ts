/**
 * Speech is priced before spend, as video is (preflight.ts): before the
 * first paid request of a run, WaveSpeed is asked what one line to voice
 * costs today. A price that differs from the speech table stops the run
 * (nothing was submitted): every speech hold, and each episode's admission,
 * were made at the table's price), unless the user accepts live prices:
 * then the ratio to the table is returned, and every line is reserved and
 * recorded at it. The longest line is asked, so a small change per
 * character still shows after rounding.
 */
import { roundUsd } from '../cost/estimate.ts';
import { DuologueError } from '../errors.ts';
import type { SpeechProvider } from '../providers/speech-types.ts';
import type { SpeechWork } from '../schedule/speech.ts';
import { billedChars } from '../speech/prices.ts';

/**
 * `jobs`: the lines still to voice; only those of `admitted` episodes are paid for (none: nothing is asked).
 * `provider`: an instance (the caller's, left open) or a factory (made and closed here).
 */
export async function checkSpeechPrice(
  jobs: readonly SpeechWork[],
  admitted: ReadonlySet<string>,
  provider: SpeechProvider | (() => SpeechProvider),
  options: { signal?: AbortSignal; accept?: boolean; warn?: (message: string) => void } = {},
): Promise<number> {
  const paid = jobs.filter((j) => j.usd > 0 && j.uses.some((u) => admitted.has(u.episodeId)));
  if (paid.length === 0) return 1;
  const longest = paid.reduce((a, b) => (billedChars(b.task.spec.text) > billedChars(a.task.spec.text) ? b : a));
  const voice = typeof provider === 'function' ? provider() : provider;
  try {
    if (!voice.billed || !voice.quote) return 1;
    const quotedUsd = roundUsd(await voice.quote(longest.task, { signal: options.signal }));
    if (quotedUsd === longest.usd) return 1;
    const at = `${longest.task.episodeId}/${longest.task.sceneId} line ${longest.task.line}`;
    if (options.accept) {
      options.warn?.(`WaveSpeed quotes $${quotedUsd.toFixed(4)} for speech, the table says $${longest.usd.toFixed(4)} (${at}): reserving and recording speech at the quoted price (--accept-live-prices)`);
      return quotedUsd / longest.usd;
    }
    throw new DuologueError(
      'E_PRICE',
      `WaveSpeed quotes $${quotedUsd.toFixed(4)} for speech, the table says $${longest.usd.toFixed(4)} (${at}, ${longest.task.model}, ${billedChars(longest.task.spec.text)} characters); ` +
        `speech price table ${voice.prices.version}; nothing was submitted. Update the speech price table (pipeline/speech/prices.ts), or run with --accept-live-prices to go on, reserving at the quoted price`,
    );
  } finally {
    if (typeof provider === 'function') await voice.close?.();
  }
}
