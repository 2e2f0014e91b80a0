/** Stores for engine tests: a real one with some of its renders' methods replaced (a disk that fills up, say). */
import type { RenderStore, Store } from '../../pipeline/cache/interfaces.ts';

/** `store` with these renders methods replaced, outside and inside its transactions alike. */
export function withRenders(store: Store, override: Partial<RenderStore>): Store {
  const wrap = (renders: RenderStore): RenderStore => Object.assign(Object.create(renders) as RenderStore, override);
  return { ...store, renders: wrap(store.renders), transaction: (fn) => store.transaction((tx) => fn({ ...tx, renders: wrap(tx.renders) })) };
}
