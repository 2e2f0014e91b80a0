import { createHash, randomInt } from 'node:crypto';
import { LIMITS } from '../defaults.ts';

/**
 * The seed of a scene with none set: a pure function of its ids, so the same
 * scene renders (and hits the cache) the same way on every run and machine.
 */
export function deriveSeed(episodeId: string, sceneId: string): number {
  const digest = createHash('sha256').update(`duologue-seed-v1\0${episodeId}\0${sceneId}`).digest();
  return digest.readUInt32BE(0) % (LIMITS.maxSeed + 1);
}

/** A fresh seed for `seed: random`; the RNG is a collaborator so tests can fix it. */
export function drawSeed(random: (maxExclusive: number) => number = (max) => randomInt(max)): number {
  return random(LIMITS.maxSeed + 1);
}
