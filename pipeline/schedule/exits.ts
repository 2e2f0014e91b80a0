/**
 * Every way a job ends short of a clip, as one table: what its claim becomes
 * in the store and what happens to the money held for its submit. A job
 * names its exit; `endJob` in job.ts carries it out. Reading the table is
 * reading the money rules of a failure: an exit that may have created a
 * billed task charges its hold and leaves the claim where the next run looks
 * before paying (in flight, or ambiguous), never plain failed.
 */

/** What the claim becomes. */
export type ClaimAction =
  /** Nothing written: another run holds the key now. */
  | 'keep'
  /** Given back as it stands: an in-flight prediction is resumed next run, at no charge. */
  | 'release'
  /** Failed: the next run renders it again. */
  | 'failed'
  /** Failed for what the scene is: not tried again until it changes (or --retry-held). */
  | 'refused'
  /** Paid and unusable: counts toward the key's paid attempts (held after MAX_PAID_ATTEMPTS). */
  | 'paid-unusable'
  /** May have been billed: the next run looks it up in the provider's list, or a person decides. */
  | 'ambiguous'
  /** Ambiguous, and the prediction id it had is dropped (the provider does not know it). */
  | 'ambiguous-forget';

/** What happens to the money held for the submit. */
export type MoneyAction =
  /** Nothing was held. */
  | 'none'
  /** No task, or one that is not billed: the hold goes back. */
  | 'release'
  /** Billed, or maybe: the whole hold is this run's charge, at worst. */
  | 'charge-held'
  /** Billed for what it delivered (the hold when that is unknown). */
  | 'charge-delivered';

/** What the job reports. */
export type Ending = 'failed' | 'skipped' | 'interrupted' | 'lost';

export interface Exit {
  claim: ClaimAction;
  money: MoneyAction;
  ends: Ending;
}

export const EXITS = {
  // Decided before anything is held.
  /** An earlier submit's answer never came and the list did not settle it; no --retry-ambiguous. */
  'earlier submit unanswered': { claim: 'ambiguous', money: 'none', ends: 'failed' },
  /** Refused by the provider for what the scene is, and unchanged since. */
  'refused before': { claim: 'release', money: 'none', ends: 'failed' },
  /** Its prediction outlived the provider's retention: rendering again is paying again, left to the next run. */
  'prediction expired': { claim: 'failed', money: 'none', ends: 'failed' },
  /**
   * Its sender stopped renewing its claim mid-submit and never recorded the request's end: it may be
   * paused with the request open, so nothing proves a new submit would be the only one. Held; a hold
   * it left on a named run's books counts as spent (the task may yet be billed).
   */
  'sender may still be sending': { claim: 'ambiguous', money: 'charge-held', ends: 'failed' },
  /** Paid MAX_PAID_ATTEMPTS times without a usable clip. */
  held: { claim: 'failed', money: 'none', ends: 'failed' },
  /** Its worst case does not fit the budget (or the account refused money meanwhile). */
  'over budget': { claim: 'release', money: 'none', ends: 'skipped' },
  /** Its prediction failed and the retry does not fit the budget. */
  'retry over budget': { claim: 'failed', money: 'none', ends: 'skipped' },

  // Around the submit.
  /** The account ran out of money since it took its turn: nothing sent. */
  'not submitted': { claim: 'release', money: 'release', ends: 'skipped' },
  /** Another run took the key over while this one was paused: nothing sent, its outcome is awaited. */
  'claim lost': { claim: 'keep', money: 'release', ends: 'lost' },
  /** The submit's answer was lost and the list does not show the task (yet). */
  'submit unanswered': { claim: 'ambiguous', money: 'charge-held', ends: 'failed' },
  /** Any other error before a task existed. */
  'failed before task': { claim: 'failed', money: 'release', ends: 'failed' },

  // After the provider took it.
  /** The prediction failed (not billed). */
  'prediction failed': { claim: 'failed', money: 'release', ends: 'failed' },
  /** The prediction was refused for the scene's content or inputs (not billed). */
  'prediction refused': { claim: 'refused', money: 'release', ends: 'failed' },
  /** Polling stopped on an error (deadline, network): the id is kept and resumed. */
  'kept in flight': { claim: 'release', money: 'charge-held', ends: 'failed' },
  /** The provider says the prediction does not exist. */
  'prediction gone': { claim: 'ambiguous-forget', money: 'charge-held', ends: 'failed' },
  /** The clip could not be downloaded: the next run downloads it at no charge. */
  'not downloaded': { claim: 'release', money: 'charge-held', ends: 'failed' },
  /** The output is not there (yet): the next run fetches it again at no charge. */
  'output missing': { claim: 'release', money: 'charge-held', ends: 'failed' },
  /** The output was missing MAX_OUTPUT_MISSES runs in a row: a person looks. */
  'output never there': { claim: 'ambiguous', money: 'charge-held', ends: 'failed' },
  /** Delivered, paid and unusable (too long, no video...). */
  'output unusable': { claim: 'paid-unusable', money: 'charge-delivered', ends: 'failed' },

  // Ctrl-C.
  /** Stopped before any request that could create a task. */
  'stopped before submit': { claim: 'failed', money: 'release', ends: 'interrupted' },
  /** Stopped after the task was (or may have been) created: the id, or the open submit, stays recorded. */
  'stopped after submit': { claim: 'release', money: 'charge-held', ends: 'interrupted' },
} as const satisfies Record<string, Exit>;

export type ExitName = keyof typeof EXITS;
