/** Deterministic numbers and updates shared by every approach, so the side-by-side compares like with like. */

/** The i-th benchmark number: +1206 followed by seven digits (valid E.164, distinct for i < 10^7). */
export function benchNumber(i: number): string {
  return `+1206${String(i).padStart(7, '0')}`;
}

export interface Workload {
  readonly n: number;
  readonly initial: readonly string[];
  /** Declared after the update. */
  readonly updated: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /**
   * The update as slots of a per-number (index-keyed) template: each removed number's slot is taken by
   * an added number while both last; leftover removed slots disappear, leftover added numbers get new slots.
   */
  readonly updatedSlots: readonly (string | undefined)[];
}

/**
 * N numbers, then an update that touches 1% of N (at least 1): half added, half removed (the odd one
 * is a removal, so N = 10 and N = 100 remove one number). Removed numbers are spread over the list.
 */
export function workload(n: number): Workload {
  const initial = Array.from({ length: n }, (_, i) => benchNumber(i));
  const touched = Math.max(1, Math.round(n / 100));
  const addCount = Math.floor(touched / 2);
  const removeCount = touched - addCount;
  const step = Math.floor(n / removeCount);
  const removedIndices = Array.from({ length: removeCount }, (_, j) => j * step + Math.floor(step / 2));
  const removedSet = new Set(removedIndices);
  const removed = removedIndices.map((i) => initial[i]);
  const added = Array.from({ length: addCount }, (_, j) => benchNumber(n + j));
  const updated = [...initial.filter((_, i) => !removedSet.has(i)), ...added];

  const slots: (string | undefined)[] = [...initial];
  const pending = [...added];
  for (const index of removedIndices) {
    slots[index] = pending.shift();
  }
  slots.push(...pending);
  return { n, initial, updated, added, removed, updatedSlots: slots };
}
