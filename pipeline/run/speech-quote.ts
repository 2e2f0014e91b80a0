/**
 * Speech is priced before spend, as video is (preflight.ts): before the
 * first paid request of a run, WaveSpeed is asked what one line to voice
 * costs today. A price that differs from the speech table stops the run
 * (nothing was submitted): every speech hold, and each episode's admission,
 * were made at the table's price. The longest line is asked, so a small
 * change per character still shows after rounding.
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
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const paid = jobs.filter((j) => j.usd > 0 && j.uses.some((u) => admitted.has(u.episodeId)));
  if (paid.length === 0) return;
  const longest = paid.reduce((a, b) => (billedChars(b.task.spec.text) > billedChars(a.task.spec.text) ? b : a));
  const voice = typeof provider === 'function' ? provider() : provider;
  try {
    if (!voice.billed || !voice.quote) return;
    const quotedUsd = roundUsd(await voice.quote(longest.task, { signal: options.signal }));
    if (quotedUsd === longest.usd) return;
    const at = `${longest.task.episodeId}/${longest.task.sceneId} line ${longest.task.line}`;
    throw new DuologueError(
      'E_PRICE',
      `WaveSpeed quotes $${quotedUsd.toFixed(4)} for speech, the table says $${longest.usd.toFixed(4)} (${at}, ${longest.task.model}, ${billedChars(longest.task.spec.text)} characters); ` +
        `speech price table ${voice.prices.version}; nothing was submitted. Update the speech price table (pipeline/speech/prices.ts)`,
    );
  } finally {
    if (typeof provider === 'function') await voice.close?.();
  }
}
