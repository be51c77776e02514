import type { Owner, PriorState, RollbackRecord } from './record';
import type { Binding, ShardSpec } from './request';
import { shardOf } from '../../src/binding-properties';

/**
 * One batch of changes. Associations name their target (a group, or the voice connector a number is
 * handed back to) and whether they may take a number bound elsewhere: only numbers this stack moves
 * between its own groups, numbers declared with forceAssociate whose owner is known and recorded, and
 * numbers handed back to their previous owner are forced.
 */
export type Step =
  | { readonly kind: 'associate'; readonly target: Owner; readonly numbers: readonly string[]; readonly force: boolean }
  | { readonly kind: 'disassociate'; readonly groupId: string; readonly numbers: readonly string[] };

/** What the reads found. */
export interface Readings {
  /** Numbers read one by one: their owner, or null when unbound (or not in the inventory). */
  readonly owners: ReadonlyMap<string, Owner | null>;
  /** Groups listed whole: the numbers bound to each. */
  readonly groups: ReadonlyMap<string, ReadonlySet<string>>;
  /** Listed groups that do not exist. */
  readonly missingGroups: ReadonlySet<string>;
}

/** Which numbers to read one by one and which groups to list, before planning. */
export interface ReadPlan {
  readonly numbers: readonly string[];
  readonly groups: readonly string[];
}

/**
 * Past this many numbers of interest on one group, the group is listed (100 numbers per call) instead of
 * reading each number (one call each). The choice follows the numbers the event needs, never the group's
 * size: two numbers on a 20,000-number group cost two reads, not 200 pages.
 */
export const ONE_BY_ONE_PER_GROUP = 50;

/** The number's owner as read: an owner, null for unbound, undefined when no read covered it. */
export function currentOwner(readings: Readings, number: string): Owner | null | undefined {
  if (readings.owners.has(number)) return readings.owners.get(number)!;
  for (const [groupId, bound] of readings.groups) {
    if (bound.has(number)) return { kind: 'group', id: groupId };
  }
  return undefined;
}

/** Whether the reads show the number on the group. */
export function isOn(readings: Readings, number: string, groupId: string): boolean {
  const owner = currentOwner(readings, number);
  return owner?.kind === 'group' && owner.id === groupId;
}

export function sameOwner(a: Owner | null | undefined, b: Owner | null | undefined): boolean {
  return !!a && !!b && a.kind === b.kind && a.id === b.id;
}

/**
 * Reads for a set of numbers, each with the groups it may be on. Numbers whose owner must be known exactly
 * (`exact`: to be taken, and so recorded) are always read one by one.
 */
export function planReads(numbers: ReadonlyMap<string, readonly string[]>, exact: ReadonlySet<string>, listed: Iterable<string> = []): ReadPlan {
  const perGroup = new Map<string, string[]>();
  for (const [number, groups] of numbers) {
    if (exact.has(number)) continue;
    for (const g of groups) perGroup.set(g, [...(perGroup.get(g) ?? []), number]);
  }
  const groups = new Set(listed);
  for (const [g, members] of perGroup) if (members.length > ONE_BY_ONE_PER_GROUP) groups.add(g);
  const one = [...numbers.keys()].filter((n) => exact.has(n) || !(numbers.get(n) ?? []).some((g) => groups.has(g)));
  return { numbers: one.sort(), groups: [...groups].sort() };
}

/** A declared number that cannot be bound without forceAssociate, with where it is. */
export interface Refusal {
  readonly number: string;
  readonly groupId: string;
  readonly owner: Owner;
}

/** Everything a Create or Update changes, computed before the first write. */
export interface ForwardPlan {
  readonly steps: readonly Step[];
  /** Where each number it binds or moves was before, and the numbers it unbinds: what a rollback puts back. */
  readonly prior: ReadonlyMap<string, PriorState>;
  readonly unbound: ReadonlyMap<string, string>;
  /** Numbers bound elsewhere that the declaration may not take: the event fails before any write. */
  readonly refused: readonly Refusal[];
  readonly counts: {
    readonly declared: number;
    readonly unchanged: number;
    readonly retained: number;
    readonly rebound: number;
    readonly foreign: number;
  };
  /** Drifted every-deploy numbers left where they are (bound elsewhere, no forceAssociate). */
  readonly notRepaired: ReadonlyArray<{ readonly number: string; readonly owner: Owner }>;
}

/** The numbers a Create or Update must read before planning, and how. */
export function forwardReads(desired: ShardSpec, previous: ShardSpec | undefined): ReadPlan {
  const numbers = new Map<string, string[]>();
  const exact = new Set<string>();
  for (const [number, want] of desired.bindings) {
    const had = previous?.bindings.get(number);
    if (had && had.groupId === want.groupId && !want.everyDeploy) continue;
    numbers.set(number, had && had.groupId !== want.groupId ? [want.groupId, had.groupId] : [want.groupId]);
    if (want.force) exact.add(number);
  }
  for (const [number, had] of previous?.bindings ?? []) {
    if (!desired.bindings.has(number) && !had.retain) numbers.set(number, [had.groupId]);
  }
  return planReads(numbers, exact, desired.exclusiveGroups);
}

/**
 * Computes what a Create (no `previous`) or Update changes. Pure: the same declaration and readings always
 * give the same plan.
 *
 * - A declared number already on its group is left alone (adopted).
 * - An unbound number is bound; one on the group the previous declaration gave it is moved (it is the
 *   stack's own); one bound anywhere else is taken only with forceAssociate, else refused.
 * - A number the stack stops declaring is unbound if it is still on its group, unless declared RETAIN.
 * - Every-deploy numbers are read and repaired even when unchanged.
 * - A number on an exclusive group that the stack does not declare for it, and that hashes to this shard,
 *   is unbound (`foreign`), and recorded like any other unbinding: a rollback binds it back.
 */
export function planForward(desired: ShardSpec, previous: ShardSpec | undefined, readings: Readings): ForwardPlan {
  const binds = new Map<string, { target: Owner; force: boolean; numbers: string[] }>();
  const unbinds = new Map<string, string[]>();
  const prior = new Map<string, PriorState>();
  const unbound = new Map<string, string>();
  const refused: Refusal[] = [];
  const notRepaired: Array<{ number: string; owner: Owner }> = [];
  let unchanged = 0;
  let retained = 0;
  let rebound = 0;
  const bind = (target: Owner, force: boolean, number: string) => {
    const key = `${target.kind}:${target.id}:${force}`;
    const batch = binds.get(key) ?? { target, force, numbers: [] };
    batch.numbers.push(number);
    binds.set(key, batch);
  };
  const unbind = (groupId: string, number: string) => unbinds.set(groupId, [...(unbinds.get(groupId) ?? []), number]);

  for (const [number, want] of desired.bindings) {
    const had = previous?.bindings.get(number);
    const target: Owner = { kind: 'group', id: want.groupId };
    const same = had !== undefined && had.groupId === want.groupId;
    if (same && !want.everyDeploy) {
      unchanged++;
      continue;
    }
    const owner = currentOwner(readings, number);
    if (sameOwner(owner, target)) {
      unchanged++;
      continue;
    }
    const ours = had !== undefined && !same && owner?.kind === 'group' && (owner.id === had.groupId || desired.exclusiveGroups.has(owner.id));
    if (ours || (owner?.kind === 'group' && desired.exclusiveGroups.has(owner.id))) {
      // The stack's own number, on the group it declared before (or on an exclusive group of the stack,
      // which may hold no number the stack does not declare for it): moving it needs no forceAssociate.
      bind(target, true, number);
      prior.set(number, { kind: 'owned', owner: owner! });
    } else if (owner === null || owner === undefined) {
      // Unbound, or not on any group that was listed: a plain association binds it, or is refused if it
      // turns out to be bound elsewhere after all. Either way nothing of anyone else's is taken.
      bind(target, false, number);
      prior.set(number, { kind: 'unbound' });
      if (same) rebound++;
    } else if (want.force) {
      bind(target, true, number);
      prior.set(number, { kind: 'owned', owner });
      if (same) rebound++;
    } else if (same) {
      notRepaired.push({ number, owner });
    } else {
      refused.push({ number, groupId: want.groupId, owner });
    }
  }

  for (const [number, had] of previous?.bindings ?? []) {
    if (desired.bindings.has(number)) continue;
    if (had.retain) {
      retained++;
    } else if (isOn(readings, number, had.groupId)) {
      unbind(had.groupId, number);
      unbound.set(number, had.groupId);
    }
  }

  let foreign = 0;
  for (const groupId of desired.exclusiveGroups) {
    for (const number of readings.groups.get(groupId) ?? []) {
      if (shardOf(number) !== desired.shard || desired.bindings.get(number)?.groupId === groupId) continue;
      if (desired.bindings.has(number) || unbound.has(number)) continue; // moved off by the steps above
      unbind(groupId, number);
      unbound.set(number, groupId);
      foreign++;
    }
  }

  const steps: Step[] = [
    ...[...binds.values()].map((b): Step => ({ kind: 'associate', target: b.target, numbers: b.numbers.sort(), force: b.force })),
    ...[...unbinds].map(([groupId, numbers]): Step => ({ kind: 'disassociate', groupId, numbers: numbers.sort() })),
  ];
  return {
    steps: refused.length > 0 ? [] : steps,
    prior,
    unbound,
    refused,
    counts: { declared: desired.bindings.size, unchanged, retained, rebound, foreign },
    notRepaired,
  };
}

/**
 * A Delete: every declared number is unbound from its group, except those declared RETAIN, without
 * reading first. Disassociating a number from a group it is not on changes nothing (the service leaves a
 * number bound elsewhere alone), so a read would only spend calls: listing a group costs a call per 100
 * numbers in it, for every shard, and a stack's shards are deleted together.
 */
export function planDelete(previous: ShardSpec): { readonly steps: readonly Step[]; readonly retained: number } {
  const unbinds = new Map<string, string[]>();
  let retained = 0;
  for (const b of previous.bindings.values()) {
    if (b.retain) retained++;
    else unbinds.set(b.groupId, [...(unbinds.get(b.groupId) ?? []), b.number]);
  }
  return { steps: [...unbinds].map(([groupId, numbers]) => ({ kind: 'disassociate', groupId, numbers: numbers.sort() })), retained };
}

/** Reads for putting a record back: every number it names, with the group the event put it on or took it off. */
export function restoreReads(record: RollbackRecord, spec: ShardSpec): ReadPlan {
  const numbers = new Map<string, string[]>();
  for (const number of record.prior.keys()) {
    const groupId = spec.bindings.get(number)?.groupId;
    if (groupId) numbers.set(number, [groupId]);
  }
  for (const [number, groupId] of record.unbound) numbers.set(number, [groupId]);
  return planReads(numbers, new Set());
}

/** A number a rollback leaves where it is, and why. */
export interface Unrestored {
  readonly number: string;
  readonly wanted: PriorState;
  readonly now: Owner | null | undefined;
}

/**
 * Puts back what the event behind `record` changed, as far as the numbers are still where that event put
 * them: a number it bound is unbound, or handed back (forced) to the owner it had; a number it unbound is
 * bound again to its group, without force. A number that has moved on since (taken by someone else) is
 * left there and reported. Run twice, or after a partial undo, it changes nothing more: it is safe in
 * every order CloudFormation may send a rollback's events in.
 */
export function planRestore(
  record: RollbackRecord, spec: ShardSpec, readings: Readings,
): { readonly steps: readonly Step[]; readonly unrestored: readonly Unrestored[] } {
  const binds = new Map<string, { target: Owner; force: boolean; numbers: string[] }>();
  const unbinds = new Map<string, string[]>();
  const unrestored: Unrestored[] = [];
  for (const [number, wanted] of record.prior) {
    const groupId = spec.bindings.get(number)?.groupId;
    if (!groupId) continue;
    const now = currentOwner(readings, number);
    if (wanted.kind === 'owned' && sameOwner(now, wanted.owner)) continue;
    if (wanted.kind === 'unbound' && now === null) continue;
    if (!(now?.kind === 'group' && now.id === groupId)) {
      // Not where the event put it. Unknown after a listing means "not on the group": nothing to undo.
      if (now !== undefined && !(wanted.kind === 'unbound' && now === null)) unrestored.push({ number, wanted, now });
      continue;
    }
    if (wanted.kind === 'unbound') {
      unbinds.set(groupId, [...(unbinds.get(groupId) ?? []), number]);
    } else {
      const key = `${wanted.owner.kind}:${wanted.owner.id}:force`;
      const batch = binds.get(key) ?? { target: wanted.owner, force: true, numbers: [] };
      batch.numbers.push(number);
      binds.set(key, batch);
    }
  }
  for (const [number, groupId] of record.unbound) {
    const now = currentOwner(readings, number);
    if (now?.kind === 'group' && now.id === groupId) continue;
    if (now === null || now === undefined) {
      const key = `group:${groupId}:polite`;
      const batch = binds.get(key) ?? { target: { kind: 'group', id: groupId }, force: false, numbers: [] };
      batch.numbers.push(number);
      binds.set(key, batch);
    } else {
      unrestored.push({ number, wanted: { kind: 'owned', owner: { kind: 'group', id: groupId } }, now });
    }
  }
  const steps: Step[] = [
    ...[...unbinds].map(([groupId, numbers]): Step => ({ kind: 'disassociate', groupId, numbers: numbers.sort() })),
    ...[...binds.values()].map((b): Step => ({ kind: 'associate', target: b.target, numbers: b.numbers.sort(), force: b.force })),
  ];
  return { steps, unrestored };
}

/**
 * The rollback of an Update whose own record is not at hand (the resource whose update failed keeps its
 * old physical id): only what is safe without knowing the numbers' earlier places. Numbers the rolled-back
 * declaration has and that are unbound now are bound again to their group, without force; nothing is
 * unbound or taken, since a number the failed update found already bound may have been there before it.
 * The failed update undid its own changes before it failed.
 */
export function planCautiousRollback(restored: ShardSpec, failed: ShardSpec | undefined, readings: Readings): readonly Step[] {
  const binds = new Map<string, string[]>();
  for (const b of restored.bindings.values()) {
    const was = failed?.bindings.get(b.number);
    if (was && was.groupId === b.groupId) continue;
    if (currentOwner(readings, b.number) === null) binds.set(b.groupId, [...(binds.get(b.groupId) ?? []), b.number]);
  }
  return [...binds].map(([groupId, numbers]) => ({ kind: 'associate', target: { kind: 'group', id: groupId }, numbers: numbers.sort(), force: false }));
}

export function cautiousRollbackReads(restored: ShardSpec, failed: ShardSpec | undefined): ReadPlan {
  const numbers = new Map<string, string[]>();
  for (const b of restored.bindings.values()) {
    const was = failed?.bindings.get(b.number);
    if (!was || was.groupId !== b.groupId) numbers.set(b.number, [b.groupId]);
  }
  // Exact: "unbound" is what decides, and a listing cannot tell unbound from bound elsewhere.
  return planReads(numbers, new Set(numbers.keys()));
}

export function countNumbers(steps: readonly Step[]): number {
  return steps.reduce((sum, s) => sum + s.numbers.length, 0);
}

export type { Binding };
