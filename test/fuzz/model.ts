/**
 * Lifecycle fuzzing model, shared by the jest property (lifecycle.test.ts), the regression tests and the
 * soak runner (soak.ts).
 *
 * A sequence is a list of abstract steps (deploy a stack of 1..3 constructs over 2 groups, or destroy
 * it), each with its own delivery order, duplicate delivery and emulator faults. Steps are interpreted
 * against a reference model of the account (the expected binding of every number in the inventory), so
 * the same abstract step means something sensible whatever came before it, and shrinking stays valid.
 *
 * After every step, on the emulator's state:
 * - a step that succeeds leaves every declared number bound to its group, every number the stack let go
 *   of unbound (unless its construct was RETAINed), and every other number exactly as it was;
 * - a step that fails (a bad number, or faults the retries could not absorb) leaves every number exactly
 *   as it was before the step, and the stack rolled back (never *_ROLLBACK_FAILED);
 * - no number is bound to two targets (the group view and the per-number view agree);
 * - every failed event's message names each number that made it fail, with its error code.
 */
import fc from 'fast-check';
import { CONSTRUCT_IDS, ConstructId, Decl, Decls, GROUP_NAMES, POOL_SIZE, synth, World } from './world';
import type { Binding, FaultOptions } from '../emulator';
import type { OperationResult, Order } from '../local-deploy';

// ---------------------------------------------------------------------------------------------------
// Steps

/** Faults switched on for one step: modest, so the SDK's and the handler's retries should absorb them. */
export interface StepFaults {
  readonly tpsLimit?: number;
  readonly serverErrorRate?: number;
  readonly perNumberThrottleRate?: number;
  readonly latencyMs?: number;
  readonly maxListLength?: number;
  readonly strictReassociate?: boolean;
  readonly strictDisassociate?: boolean;
}

export interface DeliveryOptions {
  readonly order: Order;
  readonly duplicate: boolean;
  readonly faults: StepFaults | null;
}

/**
 * `owners[i]` is the construct (1..3) that declares declarable number i, or 0 for none; construct k
 * binds group `groups[k-1]` (0 = a, 1 = b). A construct with no number is not in the stack; a deploy
 * with no construct at all is a destroy.
 */
export interface DeployStep extends DeliveryOptions {
  readonly kind: 'deploy';
  readonly owners: readonly number[];
  readonly groups: readonly number[];
  readonly force: readonly boolean[];
  readonly retain: readonly boolean[];
}

export interface DestroyStep extends DeliveryOptions {
  readonly kind: 'destroy';
}

export type Step = DeployStep | DestroyStep;

/** Declarable numbers: the pool, then the specials (which make a step fail unless forced, or always). */
export const SPECIALS = ['onOtherGroup', 'onVoiceConnector', 'wrongProduct', 'notInInventory'] as const;
export const DECLARABLE_COUNT = POOL_SIZE + SPECIALS.length;

export function faultsArbitrary(): fc.Arbitrary<StepFaults> {
  return fc.record({
    tpsLimit: fc.integer({ min: 6, max: 15 }),
    serverErrorRate: fc.constantFrom(0.05, 0.1, 0.15),
    perNumberThrottleRate: fc.constantFrom(0.05, 0.1),
    latencyMs: fc.integer({ min: 1, max: 3 }),
    maxListLength: fc.integer({ min: 1, max: 3 }),
    strictReassociate: fc.constant(true),
    strictDisassociate: fc.constant(true),
  }, { requiredKeys: [] }).filter((f) => Object.keys(f).length > 0);
}

function deliveryArbitrary(faultWeight: number): fc.Arbitrary<DeliveryOptions> {
  return fc.record({
    order: fc.constantFrom<Order>('topological', 'reverse', 'parallel'),
    duplicate: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    faults: fc.oneof({ weight: 10 - faultWeight, arbitrary: fc.constant(null) }, { weight: faultWeight, arbitrary: faultsArbitrary() }),
  });
}

export interface SequenceArbitraryOptions {
  readonly maxSteps?: number;
  /** Out of 10: how often a step runs with faults. */
  readonly faultWeight?: number;
}

export function stepArbitrary(options: SequenceArbitraryOptions = {}): fc.Arbitrary<Step> {
  const delivery = deliveryArbitrary(options.faultWeight ?? 3);
  const owner = fc.integer({ min: 0, max: CONSTRUCT_IDS.length });
  const special = fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: CONSTRUCT_IDS.length }) });
  const perConstruct = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: CONSTRUCT_IDS.length, maxLength: CONSTRUCT_IDS.length });
  const deploy = fc.record({
    owners: fc.tuple(
      fc.array(owner, { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
      fc.array(special, { minLength: SPECIALS.length, maxLength: SPECIALS.length }),
    )
      .map(([pool, specials]) => [...pool, ...specials]),
    groups: perConstruct(fc.integer({ min: 0, max: GROUP_NAMES.length - 1 })),
    force: perConstruct(fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })),
    retain: perConstruct(fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })),
  });
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(deploy, delivery).map(([d, o]): Step => ({ kind: 'deploy', ...d, ...o })) },
    { weight: 1, arbitrary: delivery.map((o): Step => ({ kind: 'destroy', ...o })) },
  );
}

export function sequenceArbitrary(options: SequenceArbitraryOptions = {}): fc.Arbitrary<Step[]> {
  return fc.array(stepArbitrary(options), { minLength: 1, maxLength: options.maxSteps ?? 4 });
}

// ---------------------------------------------------------------------------------------------------
// Reference model

export interface ModelState {
  /** Expected binding of every number in the inventory. */
  readonly bindings: Readonly<Record<string, Binding | null>>;
  /** Declarations of the deployed stack; null when there is none (never created, rolled back, destroyed). */
  readonly stack: Decls | null;
}

export interface Expectation {
  /** `ok`: must succeed; `fail`: must fail; `either`: depends on the order CloudFormation runs resources in. */
  readonly outcome: 'ok' | 'fail' | 'either';
  /** Construct id -> numbers that must make its event fail, with the code the message must give. */
  readonly mustName: ReadonlyMap<ConstructId, ReadonlyArray<{ number: string; code: string }>>;
  readonly ifSuccess: ModelState;
}

/** Options that change what the generator is allowed to produce (to keep known issues out of CI). */
export interface ModelOptions {
  /**
   * Drop numbers that move, in one deploy, out of a construct that is deleted (RemovalPolicy DESTROY)
   * into another construct on the same group: a documented limitation (README, Limits).
   */
  readonly avoidDocumentedLimitation?: boolean;
  /** Known handler issues to keep out of generated sequences (see KNOWN_ISSUES in regressions.test.ts). */
  readonly avoid?: ReadonlySet<KnownIssue>;
}

/**
 * - `moveOffReplacedConstruct`: a number moves out of a construct whose group changes in the same
 *   deploy into a sibling that stays on the old group.
 * - `moveWithGroupChangeRolledBack`: in a deploy that fails, a number moves out of a construct whose group
 *   changes into a sibling on its new group. The construct unbinds it, the sibling binds it, and the
 *   construct's rollback Update finds it on the new group, held by the sibling, not its own
 *   (UPDATE_ROLLBACK_FAILED). Found by the soak run with seed 777.
 * - `adoptedThenRolledBack`: a deploy that fails after another construct of it adopted a number that
 *   was already bound to its group (left there by a RETAINed construct), so the rollback unbinds it.
 * - `forceTakenThenRolledBack`: a deploy that fails after a forceAssociate construct of it took a number
 *   from another group or voice connector: the rollback unbinds it instead of handing it back.
 * - `crossGroupMoveInFailingDeploy`: in a deploy that fails, a number moves from one construct to a
 *   sibling on another group; the handler frees it while its own update is still failing, the sibling
 *   binds it, and neither the undo nor the rollback can get it back (UPDATE_ROLLBACK_FAILED).
 * - `throttledClientGivesUp`: under a request-rate limit (429 ThrottledClientException, tpsLimit 6..15)
 *   the client's retries are spent within one second, so an update, its undo and the rollback fail
 *   (UPDATE_ROLLBACK_FAILED). While known, generated faults carry no tpsLimit.
 */
export type KnownIssue =
  | 'crossGroupMoveInFailingDeploy' | 'moveOffReplacedConstruct' | 'moveWithGroupChangeRolledBack'
  | 'adoptedThenRolledBack' | 'forceTakenThenRolledBack' | 'throttledClientGivesUp';

export const DEFAULT_MODEL_OPTIONS: ModelOptions = { avoidDocumentedLimitation: true };

/** Turns an abstract deploy step into the declarations it means, given the deployed stack. */
export function declsFor(step: DeployStep, state: ModelState, world: World, options: ModelOptions): Decls {
  const declarable = declarableNumbers(world);
  const decls: Partial<Record<ConstructId, { group: string; numbers: string[]; forceAssociate: boolean; retain: boolean }>> = {};
  CONSTRUCT_IDS.forEach((id, k) => {
    const numbers = declarable.filter((_, i) => step.owners[i] === k + 1).sort();
    if (numbers.length === 0) return;
    decls[id] = {
      group: world.account.groups[GROUP_NAMES[step.groups[k]]],
      numbers,
      forceAssociate: step.force[k],
      retain: step.retain[k],
    };
  });
  const old = state.stack ?? {};
  const drop = (id: ConstructId, n: string) => {
    decls[id]!.numbers = decls[id]!.numbers.filter((m) => m !== n);
    if (decls[id]!.numbers.length === 0) delete decls[id];
  };
  // Dropping a number can empty (and so delete) a construct, which can bring another move under a rule,
  // or change the expected outcome: repeat until nothing changes.
  for (let changed = true; changed;) {
    const before = JSON.stringify(decls);
    for (const id of CONSTRUCT_IDS) {
      for (const n of [...(decls[id]?.numbers ?? [])]) {
        const holder = holderOf(old, n);
        if (!holder || holder.id === id) continue;
        const oldDecl = holder.decl;
        const sameGroup = oldDecl.group === decls[id]!.group;
        const documented = options.avoidDocumentedLimitation && sameGroup && !decls[holder.id] && !oldDecl.retain;
        const replaced = options.avoid?.has('moveOffReplacedConstruct') && sameGroup && decls[holder.id] && decls[holder.id]!.group !== oldDecl.group;
        if (documented || replaced) drop(id, n);
      }
    }
    if (options.avoid?.has('crossGroupMoveInFailingDeploy') && (expectDeploy(state, decls as Decls, world).outcome !== 'ok' || step.faults)) {
      for (const id of CONSTRUCT_IDS) {
        for (const n of [...(decls[id]?.numbers ?? [])]) {
          const holder = holderOf(old, n);
          if (holder && holder.id !== id && decls[holder.id] && holder.decl.group !== decls[id]!.group) drop(id, n);
        }
      }
    }
    if (options.avoid?.has('moveWithGroupChangeRolledBack') && (expectDeploy(state, decls as Decls, world).outcome !== 'ok' || step.faults)) {
      for (const id of CONSTRUCT_IDS) {
        for (const n of [...(decls[id]?.numbers ?? [])]) {
          const holder = holderOf(old, n);
          const moved = holder && holder.id !== id ? decls[holder.id] : undefined;
          if (moved && moved.group !== holder!.decl.group && moved.group === decls[id]!.group) drop(id, n);
        }
      }
    }
    if (options.avoid?.has('forceTakenThenRolledBack') && (expectDeploy(state, decls as Decls, world).outcome !== 'ok' || step.faults)) {
      // Keep numbers a forceAssociate construct would take from elsewhere out of deploys that fail or may fail.
      for (const id of CONSTRUCT_IDS) {
        const d = decls[id];
        if (!d?.forceAssociate) continue;
        const o = old[id];
        for (const n of [...d.numbers]) {
          const cur = state.bindings[n];
          const elsewhere = cur && !(cur.name === 'VoiceConnectorGroupId' && (cur.value === d.group || (o && o.group === cur.value && o.numbers.includes(n))));
          if (elsewhere) drop(id, n);
        }
      }
    }
    if (options.avoid?.has('adoptedThenRolledBack')) {
      // Keep adopted numbers (already bound to the group, but not by the construct that now declares them)
      // out of deploys that fail or may fail.
      const draft = decls as Decls;
      if (expectDeploy(state, draft, world).outcome !== 'ok' || step.faults) {
        for (const id of CONSTRUCT_IDS) {
          for (const n of [...(decls[id]?.numbers ?? [])]) {
            const cur = state.bindings[n];
            const isAdopted = cur?.name === 'VoiceConnectorGroupId' && cur.value === decls[id]!.group && holderOf(old, n)?.id !== id
              && world.account.pool.includes(n);
            if (isAdopted) drop(id, n);
          }
        }
      }
    }
    changed = JSON.stringify(decls) !== before;
  }
  return decls as Decls;
}

export function declarableNumbers(world: World): string[] {
  const { pool, onOtherGroup, onVoiceConnector, wrongProduct, notInInventory } = world.account;
  return [...pool, onOtherGroup, onVoiceConnector, wrongProduct, notInInventory];
}

function holderOf(decls: Decls, n: string): { id: ConstructId; decl: Decl } | undefined {
  for (const id of CONSTRUCT_IDS) {
    const decl = decls[id];
    if (decl?.numbers.includes(n)) return { id, decl };
  }
  return undefined;
}

const groupBinding = (group: string): Binding => ({ name: 'VoiceConnectorGroupId', value: group });

/** What the deploy of `next` over `state` must do. */
export function expectDeploy(state: ModelState, next: Decls, world: World): Expectation {
  const { notInInventory, wrongProduct } = world.account;
  const old = state.stack ?? {};
  let definite = false;
  let orderDependent = false;
  const mustName = new Map<ConstructId, Array<{ number: string; code: string }>>();
  for (const id of CONSTRUCT_IDS) {
    const d = next[id];
    if (!d) continue;
    const o = old[id];
    const toBind = !o || o.group !== d.group ? d.numbers : d.numbers.filter((n) => !o.numbers.includes(n));
    const bad: Array<{ number: string; code: string }> = [];
    for (const n of toBind) {
      if (n === notInInventory) {
        bad.push({ number: n, code: 'NotFound' });
        continue;
      }
      if (n === wrongProduct) {
        bad.push({ number: n, code: 'BadRequest' });
        continue;
      }
      const cur = state.bindings[n];
      if (!cur || (cur.name === 'VoiceConnectorGroupId' && cur.value === d.group) || d.forceAssociate) continue;
      // Its own number, moving with the construct to its new group.
      if (o && o.group !== d.group && o.numbers.includes(n) && cur.name === 'VoiceConnectorGroupId' && cur.value === o.group) continue;
      const holder = holderOf(old, n);
      if (holder && next[holder.id]) {
        // Released by a sibling in the same deploy: fine if the sibling runs first.
        orderDependent = true;
        continue;
      }
      bad.push({ number: n, code: 'PhoneNumberAssociationsExist' });
    }
    if (bad.length > 0) {
      definite = true;
      mustName.set(id, bad);
    }
  }

  const declaredNow = new Map<string, string>();
  for (const id of CONSTRUCT_IDS) next[id]?.numbers.forEach((n) => declaredNow.set(n, next[id]!.group));
  const bindings: Record<string, Binding | null> = { ...state.bindings };
  for (const id of CONSTRUCT_IDS) {
    const o = old[id];
    if (!o) continue;
    for (const n of o.numbers) {
      if (declaredNow.has(n)) continue;
      if (!next[id] && o.retain) continue;
      bindings[n] = null;
    }
  }
  for (const [n, group] of declaredNow) bindings[n] = groupBinding(group);
  const empty = CONSTRUCT_IDS.every((id) => !next[id]);
  return {
    outcome: definite ? 'fail' : orderDependent ? 'either' : 'ok',
    mustName,
    ifSuccess: { bindings, stack: empty ? null : next },
  };
}

export function expectDestroy(state: ModelState): ModelState {
  const bindings: Record<string, Binding | null> = { ...state.bindings };
  for (const id of CONSTRUCT_IDS) {
    const o = state.stack?.[id];
    if (o && !o.retain) o.numbers.forEach((n) => (bindings[n] = null));
  }
  return { bindings, stack: null };
}

// ---------------------------------------------------------------------------------------------------
// Running a sequence

export class Violation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Violation';
  }
}

export interface Stats {
  sequences: number;
  steps: number;
  deploys: number;
  destroys: number;
  expectedFailures: number;
  orderDependent: number;
  faultySteps: number;
  faultFailures: number;
  rollbacks: number;
  duplicateSteps: number;
  faultKinds: Record<string, number>;
  events: number;
}

export function newStats(): Stats {
  return {
    sequences: 0,
    steps: 0,
    deploys: 0,
    destroys: 0,
    expectedFailures: 0,
    orderDependent: 0,
    faultySteps: 0,
    faultFailures: 0,
    rollbacks: 0,
    duplicateSteps: 0,
    faultKinds: {},
    events: 0,
  };
}

/** Readable names for the numbers in messages: p0..p4, onOtherGroup, ... */
export function labeller(world: World): (n: string) => string {
  const { pool, foreignOnA, onOtherGroup, onVoiceConnector, spare, wrongProduct, notInInventory } = world.account;
  const names = new Map<string, string>(pool.map((n, i) => [n, `p${i}`]));
  Object.entries({ foreignOnA, onOtherGroup, onVoiceConnector, spare, wrongProduct, notInInventory }).forEach(([k, v]) => names.set(v, k));
  const groupNames = new Map(Object.entries(world.account.groups).map(([k, v]) => [v, k]));
  return (n: string) => {
    const label = names.get(n) ?? groupNames.get(n) ?? (n === world.account.voiceConnector ? 'vc' : undefined);
    return label ? `${label}(${n})` : n;
  };
}

export function describeDecls(decls: Decls, world: World): string {
  const label = labeller(world);
  const parts = CONSTRUCT_IDS.filter((id) => decls[id]).map((id) => {
    const d = decls[id]!;
    const group = Object.entries(world.account.groups).find(([, v]) => v === d.group)![0];
    const flags = [d.forceAssociate ? 'force' : '', d.retain ? 'RETAIN' : ''].filter(Boolean).join(',');
    return `${id}{group ${group}${flags ? `, ${flags}` : ''}: ${d.numbers.map((n) => label(n).replace(/\(.*\)/, '')).join(' ')}}`;
  });
  return parts.length > 0 ? parts.join(' ') : '(no constructs)';
}

function describeBinding(b: Binding | null | undefined, world: World): string {
  if (!b) return 'unbound';
  const label = labeller(world);
  return `${b.name === 'VoiceConnectorGroupId' ? 'group' : b.name} ${label(b.value).replace(/\(.*\)/, '')}`;
}

/** Compares the emulator with the model; returns one line per difference. */
export function stateDifferences(world: World, expected: ModelState['bindings']): string[] {
  const actual = world.bindings();
  const label = labeller(world);
  const problems: string[] = [];
  for (const n of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    const a = actual[n] ?? null;
    const e = expected[n] ?? null;
    if (JSON.stringify(a) !== JSON.stringify(e)) problems.push(`${label(n)} is ${describeBinding(a, world)}, expected ${describeBinding(e, world)}`);
  }
  // The group view and the per-number view must agree: a number is bound to at most one target.
  for (const group of Object.values(world.account.groups)) {
    const fromNumbers = Object.entries(actual).filter(([, b]) => b?.name === 'VoiceConnectorGroupId' && b.value === group).map(([n]) => n).sort();
    const listed = world.emu.control.groupNumbers(group);
    if (JSON.stringify(fromNumbers) !== JSON.stringify(listed)) problems.push(`group ${label(group)} lists ${listed.join(',')} but its numbers say ${fromNumbers.join(',')}`);
  }
  for (const number of world.emu.control.snapshot().numbers) {
    if (number.Associations.length > 1) problems.push(`${label(number.E164PhoneNumber)} is bound to ${number.Associations.length} targets`);
  }
  return problems;
}

function withoutKey(faults: StepFaults, key: keyof StepFaults): StepFaults {
  const { [key]: _, ...rest } = faults;
  return rest;
}

function faultKinds(faults: StepFaults): string[] {
  return Object.keys(faults);
}

export interface SequenceResult {
  readonly trace: readonly string[];
}

export interface RunOptions extends ModelOptions {
  readonly stats?: Stats;
  /** Fault PRNG seed for this sequence (the emulator is reseeded with it). */
  readonly faultSeed?: number;
}

/** Runs one sequence from a fresh account; throws a Violation (with the whole trace) on the first broken invariant. */
export async function runSequence(world: World, steps: readonly Step[], options: RunOptions = DEFAULT_MODEL_OPTIONS): Promise<SequenceResult> {
  const stats = options.stats;
  world.reset(options.faultSeed ?? 1);
  let state: ModelState = { bindings: world.bindings(), stack: null };
  const trace: string[] = [];
  const fail = (message: string): never => {
    throw new Violation(`${message}\n--- trace ---\n${trace.join('\n')}`);
  };
  if (stats) stats.sequences += 1;

  for (const [index, step] of steps.entries()) {
    const decls = step.kind === 'deploy' ? declsFor(step, state, world, options) : undefined;
    const isDestroy = !decls || CONSTRUCT_IDS.every((id) => !decls[id]);
    const expectation = isDestroy ? undefined : expectDeploy(state, decls, world);
    const delivery = `order=${step.order}${step.duplicate ? ' duplicateDelivery' : ''}${step.faults ? ` faults=${JSON.stringify(step.faults)}` : ''}`;
    trace.push(`#${index + 1} ${isDestroy ? 'destroy' : `deploy ${describeDecls(decls, world)}`} [${delivery}]`
      + (expectation ? ` -> expected ${expectation.outcome}` : ''));
    if (stats) {
      stats.steps += 1;
      if (isDestroy) stats.destroys += 1; else stats.deploys += 1;
      if (expectation?.outcome === 'fail') stats.expectedFailures += 1;
      if (expectation?.outcome === 'either') stats.orderDependent += 1;
      if (step.duplicate) stats.duplicateSteps += 1;
      const applied = step.faults && options.avoid?.has('throttledClientGivesUp') ? withoutKey(step.faults, 'tpsLimit') : step.faults;
      if (applied && Object.keys(applied).length > 0) {
        stats.faultySteps += 1;
        for (const kind of faultKinds(applied)) stats.faultKinds[kind] = (stats.faultKinds[kind] ?? 0) + 1;
      }
    }

    const { control } = world.emu;
    control.clearFaults();
    const faults = step.faults && options.avoid?.has('throttledClientGivesUp') ? withoutKey(step.faults, 'tpsLimit') : step.faults;
    if (faults) control.setFaults(faults as FaultOptions);
    // A duplicate delivery of a step whose outcome depends on the order resources run in can see two
    // different worlds (the first delivery fails, the repeat succeeds after a sibling released the number);
    // the driver then reports the failure while the repeat's binding stands. Not a handler property.
    const duplicateDelivery = step.duplicate && expectation?.outcome !== 'either';
    const deployOptions = { order: step.order, duplicateDelivery };
    let result: OperationResult;
    try {
      result = isDestroy ? await world.destroy(deployOptions) : await world.deploy(decls, deployOptions);
    } finally {
      control.clearFaults();
    }
    if (stats) stats.events += result.events.length;
    trace.push(`   => ${result.status}${result.failure ? `: ${result.failure.split('\n').join(' | ')}` : ''}`);
    if (result.failure !== undefined || !result.status.endsWith('COMPLETE')) trace.push(...describeEvents(result, decls ?? state.stack ?? {}, world));

    if (isDestroy) {
      if (result.status !== 'DELETE_COMPLETE') fail(`destroy ended ${result.status}: ${result.failure}`);
      state = expectDestroy(state);
    } else {
      const e = expectation!;
      const failed = result.failure !== undefined;
      if (failed && stats) stats.rollbacks += 1;
      if (failed && step.faults && e.outcome !== 'fail' && stats) stats.faultFailures += 1;
      if (!failed && e.outcome === 'fail') fail(`step #${index + 1} succeeded but must fail (${describeMustName(e, world)})`);
      if (failed && e.outcome === 'ok' && !step.faults) fail(`step #${index + 1} failed without faults: ${result.failure}`);
      if (failed) {
        const rolledBack = state.stack ? 'UPDATE_ROLLBACK_COMPLETE' : 'ROLLBACK_COMPLETE';
        if (result.status !== rolledBack) fail(`step #${index + 1} failed and ended ${result.status}, expected ${rolledBack}`);
        checkMessages(result, decls, e, step, world, fail);
        state = keepRetainedCreates(state, decls, world);
      } else {
        state = e.ifSuccess;
      }
    }
    const problems = stateDifferences(world, state.bindings);
    if (problems.length > 0) fail(`after step #${index + 1}:\n  ${problems.join('\n  ')}`);
  }
  return { trace };
}

/**
 * A construct created by a deploy that then fails is deleted by the rollback, except with
 * `DeletionPolicy: Retain` (RemovalPolicy.RETAIN), which CloudFormation honours on rollback too: whatever
 * such a Create bound stays bound (to its group, and to nothing else), outside the stack from then on.
 */
function keepRetainedCreates(state: ModelState, decls: Decls, world: World): ModelState {
  const actual = world.bindings();
  const bindings: Record<string, Binding | null> = { ...state.bindings };
  for (const id of CONSTRUCT_IDS) {
    const d = decls[id];
    if (!d || !d.retain || state.stack?.[id]) continue;
    for (const n of d.numbers) {
      const now = actual[n];
      if (now?.name === 'VoiceConnectorGroupId' && now.value === d.group) bindings[n] = now;
    }
  }
  return { ...state, bindings };
}

/** One line per event sent: phase, request type, construct, delivery, outcome. */
export function describeEvents(result: OperationResult, decls: Decls, world: World): string[] {
  const byLogical = new Map(Object.entries(synth(decls).logicalIds).map(([id, logical]) => [logical, id]));
  const label = labeller(world);
  return result.events.map((e) => {
    const who = byLogical.get(e.logicalResourceId) ?? e.logicalResourceId;
    const what = e.ok ? `ok ${JSON.stringify(e.data ?? {})}` : `FAILED ${(e.error ?? '').split('\n').join(' | ')}`;
    return `     ${e.phase} ${e.requestType} ${who}${e.delivery > 1 ? ' (again)' : ''}: ${what}`.replace(/\+1206555\d{4}/g, (n) => label(n));
  });
}

function describeMustName(e: Expectation, world: World): string {
  const label = labeller(world);
  return [...e.mustName].map(([id, bad]) => `${id}: ${bad.map((b) => `${label(b.number)} ${b.code}`).join(', ')}`).join('; ');
}

/** Every failed event of the forward deploy names each failing number it must name, with its code. */
function checkMessages(result: OperationResult, decls: Decls, e: Expectation, step: Step, world: World, fail: (m: string) => never): void {
  const { logicalIds } = synth(decls);
  const byLogical = new Map(Object.entries(logicalIds).map(([id, logical]) => [logical, id as ConstructId]));
  for (const event of result.events) {
    if (event.ok || event.phase !== 'deploy') continue;
    const id = byLogical.get(event.logicalResourceId);
    const message = event.error ?? '';
    if (!step.faults) {
      for (const { number, code } of e.mustName.get(id!) ?? []) {
        if (!message.includes(`${number}: ${code}`)) fail(`the failure of ${id} does not name ${labeller(world)(number)} with ${code}:\n${message}`);
      }
    }
    // Whatever made it fail, the message lists each failing number with its error code.
    if (!/^- \+\d+: \w+: /m.test(message)) fail(`the failure of ${id} names no phone number with an error code:\n${message}`);
  }
}
