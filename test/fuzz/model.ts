/**
 * Lifecycle fuzzing model, shared by the jest property (lifecycle.test.ts), the regression tests and the
 * soak runner (soak.ts).
 *
 * A sequence is a list of abstract steps (deploy a stack of 1..3 constructs over 2 groups, or destroy it),
 * each with its own delivery order, duplicate delivery, emulator faults, and how CloudFormation treats
 * what is in flight when something fails (waits for it, or cancels it) and a replaced id on rollback.
 * Each deploy also refactors the stack code at random: constructs are renamed, moved under another
 * parent, merged, split or deleted while their numbers move on, and a group is named literally or through
 * a token. None of that may change a binding: the reference model knows only numbers, groups and the
 * per-number options, so every refactor is checked to be invisible.
 *
 * After every step, on the emulator's state:
 * - a deploy that succeeds leaves every declared number bound to its group, every number the stack let go
 *   of unbound (unless it was declared RETAIN), and every other number exactly as it was;
 * - a deploy that fails (a bad number, or faults the retries could not absorb) leaves every number exactly
 *   as it was before the step, numbers it adopted or took included, and the stack rolled back (never
 *   *_ROLLBACK_FAILED);
 * - no number is bound to two targets (the group view and the per-number view agree);
 * - every failed event's message names each number of its shard that made it fail, with its error code.
 */
import fc from 'fast-check';
import { CONSTRUCTS, Decl, Decls, GROUP_NAMES, POOL_SIZE, World } from './world';
import { shardLogicalId, shardOf } from '../../src/binding-properties';
import type { Binding, FaultOptions } from '../../tools/emulator';
import type { OperationResult, Order } from '../../tools/local-deploy';

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
  readonly unnamedErrorRate?: number;
}

export interface DeliveryOptions {
  readonly order: Order;
  readonly duplicate: boolean;
  readonly faults: StepFaults | null;
  /** CloudFormation cancels what is still in flight when a resource fails (only with parallel order). */
  readonly cancel: boolean;
  /** How a rollback treats an Update that answered a new physical id (AWS does not document it). */
  readonly replaced: 'update' | 'delete' | 'both';
}

/**
 * `owners[i]` is the construct (1..3) that declares declarable number i, or 0 for none. Construct k binds
 * group `groups[k-1]` (0 = a, 1 = b), is named `names[k-1]` (an index into CONSTRUCT_NAMES: renames and
 * moves between parents), and names its group through a token when `tokens[k-1]`. A construct with no
 * number is not in the stack; a deploy with no construct at all is a destroy.
 */
export interface DeployStep extends DeliveryOptions {
  readonly kind: 'deploy';
  readonly owners: readonly number[];
  readonly groups: readonly number[];
  readonly force: readonly boolean[];
  readonly retain: readonly boolean[];
  readonly names?: readonly number[];
  readonly tokens?: readonly boolean[];
}

export interface DestroyStep extends DeliveryOptions {
  readonly kind: 'destroy';
}

export type Step = DeployStep | DestroyStep;

/** Construct ids and parents a step may use: the same numbers under another name are a refactor. */
export const CONSTRUCT_NAMES: ReadonlyArray<{ readonly id: string; readonly parent: string }> = [
  { id: 'C1', parent: '' }, { id: 'C2', parent: '' }, { id: 'C3', parent: '' },
  { id: 'Support', parent: '' }, { id: 'C1', parent: 'Team' }, { id: 'Sales', parent: 'Team' },
];

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
    unnamedErrorRate: fc.constantFrom(0.2, 0.5),
  }, { requiredKeys: [] }).filter((f) => Object.keys(f).length > 0);
}

function deliveryArbitrary(faultWeight: number): fc.Arbitrary<DeliveryOptions> {
  return fc.record({
    order: fc.constantFrom<Order>('topological', 'reverse', 'parallel'),
    duplicate: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    faults: fc.oneof({ weight: 10 - faultWeight, arbitrary: fc.constant(null) }, { weight: faultWeight, arbitrary: faultsArbitrary() }),
    cancel: fc.boolean(),
    replaced: fc.constantFrom<DeliveryOptions['replaced']>('update', 'delete', 'both'),
  });
}

export interface SequenceArbitraryOptions {
  readonly maxSteps?: number;
  /** Out of 10: how often a step runs with faults. */
  readonly faultWeight?: number;
}

export function stepArbitrary(options: SequenceArbitraryOptions = {}): fc.Arbitrary<Step> {
  const delivery = deliveryArbitrary(options.faultWeight ?? 3);
  const owner = fc.integer({ min: 0, max: CONSTRUCTS });
  const special = fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: CONSTRUCTS }) });
  const perConstruct = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: CONSTRUCTS, maxLength: CONSTRUCTS });
  const deploy = fc.record({
    owners: fc.tuple(
      fc.array(owner, { minLength: POOL_SIZE, maxLength: POOL_SIZE }),
      fc.array(special, { minLength: SPECIALS.length, maxLength: SPECIALS.length }),
    ).map(([pool, specials]) => [...pool, ...specials]),
    groups: perConstruct(fc.integer({ min: 0, max: GROUP_NAMES.length - 1 })),
    force: perConstruct(fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })),
    retain: perConstruct(fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })),
    names: fc.shuffledSubarray([...CONSTRUCT_NAMES.keys()], { minLength: CONSTRUCTS, maxLength: CONSTRUCTS }),
    tokens: perConstruct(fc.boolean()),
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
// Reference model: numbers, their groups and their per-number options; never construct names.

/** What the deployed stack declares for a number. */
export interface Declared {
  readonly group: string;
  readonly force: boolean;
  readonly retain: boolean;
}

export interface ModelState {
  /** Expected binding of every number in the inventory. */
  readonly bindings: Readonly<Record<string, Binding | null>>;
  /** What the deployed stack declares; null when there is none (never created, rolled back, destroyed). */
  readonly stack: ReadonlyMap<string, Declared> | null;
}

export interface Expectation {
  readonly outcome: 'ok' | 'fail';
  /** Numbers that must make the deploy fail, with the code their shard's message must give. */
  readonly mustName: ReadonlyArray<{ readonly number: string; readonly code: string }>;
  readonly ifSuccess: ModelState;
}

/** Turns an abstract deploy step into the constructs it means. */
export function declsFor(step: DeployStep, world: World): Decls {
  const declarable = declarableNumbers(world);
  const decls: Decl[] = [];
  for (let k = 0; k < CONSTRUCTS; k++) {
    const numbers = declarable.filter((_, i) => step.owners[i] === k + 1).sort();
    if (numbers.length === 0) continue;
    const name = CONSTRUCT_NAMES[step.names?.[k] ?? k];
    decls.push({
      id: name.id,
      parent: name.parent,
      group: world.account.groups[GROUP_NAMES[step.groups[k]]],
      viaToken: step.tokens?.[k] ?? false,
      numbers,
      forceAssociate: step.force[k],
      retain: step.retain[k],
    });
  }
  return decls;
}

export function declarableNumbers(world: World): string[] {
  const { pool, onOtherGroup, onVoiceConnector, wrongProduct, notInInventory } = world.account;
  return [...pool, onOtherGroup, onVoiceConnector, wrongProduct, notInInventory];
}

/** Number -> what the constructs declare for it. */
export function declaredBy(decls: Decls): Map<string, Declared> {
  return new Map(decls.flatMap((d) => d.numbers.map((n) => [n, { group: d.group, force: d.forceAssociate, retain: d.retain }] as const)));
}

const groupBinding = (group: string): Binding => ({ name: 'VoiceConnectorGroupId', value: group });

/** What the deploy of `next` over `state` must do. */
export function expectDeploy(state: ModelState, next: Decls, world: World): Expectation {
  const { notInInventory, wrongProduct } = world.account;
  const old = state.stack ?? new Map<string, Declared>();
  const now = declaredBy(next);
  const mustName: Array<{ number: string; code: string }> = [];
  for (const [n, want] of now) {
    const had = old.get(n);
    if (had && had.group === want.group) continue;
    if (n === notInInventory) {
      mustName.push({ number: n, code: 'NotFound' });
      continue;
    }
    if (n === wrongProduct) {
      mustName.push({ number: n, code: 'BadRequest' });
      continue;
    }
    const cur = state.bindings[n];
    if (!cur || want.force) continue;
    if (cur.name === 'VoiceConnectorGroupId' && (cur.value === want.group || cur.value === had?.group)) continue;
    mustName.push({ number: n, code: 'PhoneNumberAssociationsExist' });
  }
  const bindings: Record<string, Binding | null> = { ...state.bindings };
  for (const [n, had] of old) {
    if (!now.has(n) && !had.retain) bindings[n] = null;
  }
  for (const [n, want] of now) bindings[n] = groupBinding(want.group);
  return {
    outcome: mustName.length > 0 ? 'fail' : 'ok',
    mustName,
    ifSuccess: { bindings, stack: now.size === 0 ? null : now },
  };
}

export function expectDestroy(state: ModelState): ModelState {
  const bindings: Record<string, Binding | null> = { ...state.bindings };
  for (const [n, had] of state.stack ?? []) {
    if (!had.retain) bindings[n] = null;
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
  faultySteps: number;
  faultFailures: number;
  rollbacks: number;
  duplicateSteps: number;
  cancelledSteps: number;
  /** Deploys that renamed, moved, merged or split constructs, or switched a group between token and literal. */
  refactors: number;
  /** Failed deploys whose rollback had numbers adopted or taken to put back. */
  exactRollbacks: number;
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
    faultySteps: 0,
    faultFailures: 0,
    rollbacks: 0,
    duplicateSteps: 0,
    cancelledSteps: 0,
    refactors: 0,
    exactRollbacks: 0,
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
  const parts = decls.map((d) => {
    const group = Object.entries(world.account.groups).find(([, v]) => v === d.group)![0];
    const flags = [d.viaToken ? 'token' : '', d.forceAssociate ? 'force' : '', d.retain ? 'RETAIN' : ''].filter(Boolean).join(',');
    return `${d.parent ? `${d.parent}/` : ''}${d.id}{group ${group}${flags ? `, ${flags}` : ''}: ${d.numbers.map((n) => label(n).replace(/\(.*\)/, '')).join(' ')}}`;
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

export interface SequenceResult {
  readonly trace: readonly string[];
}

export interface RunOptions {
  readonly stats?: Stats;
  /** Fault PRNG seed for this sequence (the emulator is reseeded with it). */
  readonly faultSeed?: number;
}

/** Runs one sequence from a fresh account; throws a Violation (with the whole trace) on the first broken invariant. */
export async function runSequence(world: World, steps: readonly Step[], options: RunOptions = {}): Promise<SequenceResult> {
  const stats = options.stats;
  world.reset(options.faultSeed ?? 1);
  let state: ModelState = { bindings: world.bindings(), stack: null };
  let previous: Decls = [];
  const trace: string[] = [];
  const fail = (message: string): never => {
    throw new Violation(`${message}\n--- trace ---\n${trace.join('\n')}`);
  };
  if (stats) stats.sequences += 1;

  for (const [index, step] of steps.entries()) {
    const decls = step.kind === 'deploy' ? declsFor(step, world) : undefined;
    const isDestroy = !decls || decls.length === 0;
    const expectation = isDestroy ? undefined : expectDeploy(state, decls, world);
    const cancel = step.cancel && step.order === 'parallel';
    const delivery = `order=${step.order}${cancel ? ' cancel' : ''} replaced=${step.replaced}${step.duplicate ? ' duplicateDelivery' : ''}`
      + `${step.faults ? ` faults=${JSON.stringify(step.faults)}` : ''}`;
    trace.push(`#${index + 1} ${isDestroy ? 'destroy' : `deploy ${describeDecls(decls, world)}`} [${delivery}]`
      + (expectation ? ` -> expected ${expectation.outcome}` : ''));
    if (stats) {
      stats.steps += 1;
      if (isDestroy) stats.destroys += 1; else stats.deploys += 1;
      if (expectation?.outcome === 'fail') stats.expectedFailures += 1;
      if (step.duplicate) stats.duplicateSteps += 1;
      if (cancel) stats.cancelledSteps += 1;
      if (!isDestroy && isRefactor(previous, decls)) stats.refactors += 1;
      if (step.faults && Object.keys(step.faults).length > 0) {
        stats.faultySteps += 1;
        for (const kind of Object.keys(step.faults)) stats.faultKinds[kind] = (stats.faultKinds[kind] ?? 0) + 1;
      }
    }

    const { control } = world.emu;
    control.clearFaults();
    if (step.faults) control.setFaults(step.faults as FaultOptions);
    const deployOptions = {
      order: step.order,
      duplicateDelivery: step.duplicate,
      inFlightOnFailure: cancel ? 'cancel' as const : 'finish' as const,
      replacedUpdateRollback: step.replaced,
    };
    let result: OperationResult;
    try {
      result = isDestroy ? await world.destroy(deployOptions) : await world.deploy(decls, deployOptions);
    } finally {
      control.clearFaults();
    }
    if (stats) stats.events += result.events.length;
    trace.push(`   => ${result.status}${result.failure ? `: ${result.failure.split('\n').join(' | ')}` : ''}`);
    if (result.failure !== undefined || !result.status.endsWith('COMPLETE')) trace.push(...describeEvents(result, world));

    if (isDestroy) {
      if (result.status !== 'DELETE_COMPLETE') fail(`destroy ended ${result.status}: ${result.failure}`);
      state = expectDestroy(state);
      previous = [];
    } else {
      const e = expectation!;
      const failed = result.failure !== undefined;
      if (failed && stats) stats.rollbacks += 1;
      if (failed && step.faults && e.outcome !== 'fail' && stats) stats.faultFailures += 1;
      if (failed && stats && touchesOthers(state, decls, world)) stats.exactRollbacks += 1;
      if (!failed && e.outcome === 'fail') fail(`step #${index + 1} succeeded but must fail (${e.mustName.map((m) => `${labeller(world)(m.number)} ${m.code}`).join(', ')})`);
      if (failed && e.outcome === 'ok' && !step.faults) fail(`step #${index + 1} failed without faults: ${result.failure}`);
      if (failed) {
        const rolledBack = state.stack ? 'UPDATE_ROLLBACK_COMPLETE' : 'ROLLBACK_COMPLETE';
        if (result.status !== rolledBack) fail(`step #${index + 1} failed and ended ${result.status}, expected ${rolledBack}`);
        checkMessages(result, e, step, world, fail);
        // The rollback is exact: every number ends where it was before the step.
      } else {
        state = e.ifSuccess;
        previous = decls;
      }
    }
    const problems = stateDifferences(world, state.bindings);
    if (problems.length > 0) fail(`after step #${index + 1}:\n  ${problems.join('\n  ')}`);
  }
  return { trace };
}

/** Whether the next declarations differ from the last ones in construct names, parents or token use, for the same numbers. */
function isRefactor(before: Decls, after: Decls): boolean {
  const shape = (d: Decls) => new Map(d.flatMap((x) => x.numbers.map((n) => [n, `${x.parent}/${x.id}/${x.viaToken}`] as const)));
  const [a, b] = [shape(before), shape(after)];
  return [...b].some(([n, where]) => a.has(n) && a.get(n) !== where);
}

/** Whether a deploy adopts or takes numbers: bound somewhere before the stack declares them there. */
function touchesOthers(state: ModelState, next: Decls, world: World): boolean {
  void world;
  for (const [n, want] of declaredBy(next)) {
    const had = state.stack?.get(n);
    if (had && had.group === want.group) continue;
    if (state.bindings[n]) return true;
  }
  return false;
}

/** One line per event sent: phase, request type, shard, delivery, outcome. */
export function describeEvents(result: OperationResult, world: World): string[] {
  const label = labeller(world);
  return result.events.map((e) => {
    const what = e.ok ? `ok ${JSON.stringify(e.data ?? {})}` : `FAILED ${(e.error ?? '').split('\n').join(' | ')}`;
    return `     ${e.phase} ${e.requestType} ${e.logicalResourceId} ${String(e.physicalResourceId ?? '').slice(0, 40)}${e.delivery > 1 ? ' (again)' : ''}: ${what}`
      .replace(/\+1206555\d{4}/g, (n) => label(n));
  });
}

/**
 * Every failed event of the forward deploy names each failing number of its shard, with its code; an
 * event CloudFormation cancelled says so instead.
 */
function checkMessages(result: OperationResult, e: Expectation, step: Step, world: World, fail: (m: string) => never): void {
  for (const event of result.events) {
    if (event.ok || event.phase !== 'deploy') continue;
    const message = event.error ?? '';
    if (/cancelled: the stack is/.test(message)) continue;
    if (!step.faults) {
      for (const { number, code } of e.mustName) {
        if (shardLogicalId(shardOf(number)) !== event.logicalResourceId) continue;
        if (!message.includes(`${number}: ${code}`)) fail(`the failure of ${event.logicalResourceId} does not name ${labeller(world)(number)} with ${code}:\n${message}`);
      }
    }
    // Whatever made it fail, the message lists each failing number with its error code.
    if (!/^- \+\d+: \w+: /m.test(message)) fail(`the failure of ${event.logicalResourceId} names no phone number with an error code:\n${message}`);
  }
}
