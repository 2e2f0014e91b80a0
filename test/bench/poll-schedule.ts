/**
 * When the WaveSpeed client looks at a prediction it just submitted: its
 * expected processing time before the first look, then the growing delays
 * between looks (provider.ts `waitFor`). Benches use it to set the fake's processing time
 * so each scene is polled as often as a real one would be.
 */
import { firstPollDelayMs, pollDelayMs, type WavespeedPolicy } from '../../pipeline/providers/wavespeed/policy.ts';

/** Times (ms after the submit's answer) of the first `count` polls. */
export function pollTimesMs(policy: WavespeedPolicy, count: number, videoSeconds = 1): number[] {
  const times: number[] = [];
  let t = firstPollDelayMs(videoSeconds, policy);
  for (let n = 0; n < count; n++) {
    times.push(t);
    t += pollDelayMs(n, policy);
  }
  return times;
}

/** A processing time halfway between the (polls−1)-th and the polls-th look: that many polls, with room either way. */
export function processingForPolls(policy: WavespeedPolicy, polls: number, videoSeconds = 1): number {
  const times = pollTimesMs(policy, polls, videoSeconds);
  return Math.round((times[polls - 2] + times[polls - 1]) / 2);
}
