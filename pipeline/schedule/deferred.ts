/**
 * The run's small DAG: a scene with lines written as text waits for their
 * speech, and is released to the video scheduler the moment its last line
 * is settled, not when every line of the run is. Released means its exact
 * key and cost are known (computed from the speech bytes by `resolve`, which
 * writes them into the plan's own scene object), or it is skipped because a
 * line was not voiced. Batches are resolved one at a time: lines that land
 * while a batch is resolved go out together in the next.
 */
import type { Plan, PlannedScene } from '../plan/index.ts';

/** What the scheduler needs of it. */
export interface DeferredScenes {
  /** Scenes of the plan not queued at the start: their lines are still to voice. */
  readonly held: ReadonlySet<PlannedScene>;
  /** The next scenes released (exact, or skipped), or null once every held scene is. */
  next(): Promise<PlannedScene[] | null>;
}

export const NOT_VOICED = 'a line was not voiced';

export class SceneGate implements DeferredScenes {
  readonly held = new Set<PlannedScene>();
  /** Speech keys each held scene still waits for. */
  private waiting = new Map<PlannedScene, Set<string>>();
  private byKey = new Map<string, PlannedScene[]>();
  private unvoiced = new Set<PlannedScene>();
  private ready: PlannedScene[] = [];
  private released: PlannedScene[][] = [];
  private resolving: Promise<void> = Promise.resolve();
  private wake?: () => void;
  private closed = false;

  /** `resolve`: gives each scene (in place) its exact key, inputs and cost; a scene it cannot prove is set to skip. */
  constructor(
    plan: Pick<Plan, 'episodes'>,
    private resolve: (scenes: PlannedScene[]) => Promise<void>,
  ) {
    for (const scene of plan.episodes.flatMap((e) => e.scenes)) {
      if (scene.action !== 'render' || scene.pendingSpeech.length === 0) continue;
      this.held.add(scene);
      this.waiting.set(scene, new Set(scene.pendingSpeech.map((p) => p.key)));
      for (const p of scene.pendingSpeech) this.byKey.get(p.key)?.push(scene) ?? this.byKey.set(p.key, [scene]);
    }
  }

  /** A speech key is settled: `voiced` (made, or found cached) or not (failed, held, skipped, stopped). */
  settled(key: string, voiced: boolean): void {
    for (const scene of this.byKey.get(key) ?? []) {
      const left = this.waiting.get(scene);
      if (!left?.delete(key)) continue;
      if (!voiced) this.unvoiced.add(scene);
      if (left.size === 0) {
        this.waiting.delete(scene);
        this.ready.push(scene);
      }
    }
    this.pump();
  }

  /** No more speech will settle (the stage ended, or failed): every scene still waiting is released as not voiced. */
  close(): void {
    for (const scene of this.waiting.keys()) {
      this.unvoiced.add(scene);
      this.ready.push(scene);
    }
    this.waiting.clear();
    this.closed = true;
    this.pump();
  }

  async next(): Promise<PlannedScene[] | null> {
    for (;;) {
      if (this.released.length > 0) return this.released.shift()!;
      if (this.closed && this.ready.length === 0) {
        await this.resolving;
        if (this.released.length > 0) continue;
        return null;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  private pump(): void {
    this.resolving = this.resolving.then(async () => {
      const batch = this.ready.splice(0);
      if (batch.length > 0) {
        const voiced = batch.filter((s) => !this.unvoiced.has(s));
        for (const s of batch) if (this.unvoiced.has(s)) skip(s, NOT_VOICED);
        if (voiced.length > 0) {
          try {
            await this.resolve(voiced);
          } catch (error) {
            // Its key cannot be proved: never submitted on a guess.
            for (const s of voiced) skip(s, `not planned after its speech: ${(error as Error).message}`);
          }
        }
        this.released.push(batch);
      }
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    });
  }
}

function skip(scene: PlannedScene, reason: string): void {
  scene.action = 'skip';
  scene.skipReason = reason;
  scene.costUsd = 0;
}
