/**
 * Shared machinery for the end-to-end tests: the real construct, synthesized into a real template,
 * deployed by the local CloudFormation driver through the real bundled handler asset, against the local
 * Chime SDK Voice emulator. Nothing here reaches AWS: the handler's SDK is pointed at the emulator on
 * 127.0.0.1 through AWS_ENDPOINT_URL_CHIME_SDK_VOICE.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DriftDetectionOptions, ReconcileMode, VoiceConnectorGroupPhoneNumbers } from '../../src';
import { BINDING_RESOURCE_TYPE, shardLogicalId, shardOf } from '../../src/binding-properties';
import { BATCH_SIZE_CONTEXT } from '../../src/phone-numbers-provider';
import { Binding, CallRecord, Emulator, FaultOptions, startEmulator } from '../../tools/emulator';
import { DeployOptions, fromStack, LocalDeployDriver, OperationResult, SentEvent, StackTemplate } from '../../tools/local-deploy';
import { emulatorEnv, phone, SeededAccount, seedAccount } from '../support/account';
import { HandlerContainers } from '../support/handler-containers';

export const STACK_NAME = 'Telephony';

/** Distinct, valid E.164 numbers. */
export function nums(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => phone(from + i));
}

/** One `VoiceConnectorGroupPhoneNumbers` in the stack under test. */
export interface Decl {
  readonly id: string;
  readonly group: string;
  readonly numbers: readonly string[];
  readonly forceAssociate?: boolean;
  readonly removalPolicy?: RemovalPolicy;
  readonly reconcile?: ReconcileMode;
  readonly exclusive?: boolean;
  readonly driftDetection?: DriftDetectionOptions;
  /** Construct path under the stack, `/`-separated (the last part is the id): a refactor moves a construct under another parent. */
  readonly parent?: string;
}

export interface SynthOptions {
  /** CDK context, e.g. the batch-size key. */
  readonly batchSize?: number;
}

export interface Synthesized {
  readonly template: StackTemplate;
}

/**
 * Synthesizes a fresh app (a new App per call, as every `cdk deploy` is a new process) with one stack
 * holding the declared constructs.
 */
export function synth(decls: readonly Decl[], options: SynthOptions = {}): Synthesized {
  const context: Record<string, unknown> = {};
  if (options.batchSize !== undefined) context[BATCH_SIZE_CONTEXT] = options.batchSize;
  const app = new App({ context });
  const stack = new Stack(app, STACK_NAME);
  const parents = new Map<string, Construct>();
  const parentOf = (path: string | undefined): Construct => {
    if (!path) return stack;
    let scope: Construct = stack;
    for (const part of path.split('/')) {
      const key = `${scope.node.path}/${part}`;
      scope = parents.get(key) ?? new Construct(scope, part);
      parents.set(key, scope);
    }
    return scope;
  };
  for (const decl of decls) {
    new VoiceConnectorGroupPhoneNumbers(parentOf(decl.parent), decl.id, {
      voiceConnectorGroupId: decl.group,
      phoneNumbers: [...decl.numbers],
      forceAssociate: decl.forceAssociate,
      removalPolicy: decl.removalPolicy,
      reconcile: decl.reconcile,
      exclusive: decl.exclusive,
      driftDetection: decl.driftDetection,
    });
  }
  return { template: fromStack(stack) };
}

/** Logical id of the binding resource that owns a number. */
export function ownerOf(number: string): string {
  return shardLogicalId(shardOf(number));
}

export type Deployed = OperationResult;

export const POOL_SIZE = 24;

export interface WorldOptions {
  readonly seed?: number;
  /** Handler environment on top of the emulator endpoint and dummy credentials. */
  readonly env?: Record<string, string>;
}

/** Containers that keep the handler's stdout, where the drift tests read its EMF metric lines. */
function newContainers(): HandlerContainers {
  return new HandlerContainers({ collect: true, echo: process.env.E2E_HANDLER_LOGS === '1' });
}

/**
 * One emulator per test file; `reset()` gives each test a fresh account, a fresh driver (so a cold
 * start of the handler module) and a fresh baseline for the invariant checks.
 */
export class World {
  public static async start(options: WorldOptions = {}): Promise<World> {
    return new World(await startEmulator({ seed: options.seed ?? 7 }), options);
  }

  public driver!: LocalDeployDriver;
  public containers = newContainers();
  public account!: SeededAccount;
  private baseline: Record<string, Binding | null> = {};

  private constructor(public readonly emu: Emulator, private readonly options: WorldOptions) {}

  public get env(): Record<string, string> {
    return { ...emulatorEnv(this.emu), ...this.options.env };
  }

  /** Fresh emulator state and seed, a seeded account, a new driver, and a baseline taken before any deploy. */
  public async reset(faults?: FaultOptions): Promise<SeededAccount> {
    const { control } = this.emu;
    await this.containers.shutdown();
    await this.driver?.close();
    this.containers = newContainers();
    control.reset();
    this.account = seedAccount(control, POOL_SIZE);
    this.rebaseline();
    this.driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: this.containers.handler }, env: this.env });
    if (faults) control.setFaults(faults);
    return this.account;
  }

  /** Takes the current bindings as the state the next expectations are relative to (after drift made by hand). */
  public rebaseline(): void {
    this.baseline = this.emu.control.getBindings();
  }

  public async deploy(decls: readonly Decl[], options: DeployOptions & SynthOptions = {}): Promise<Deployed> {
    const { template } = synth(decls, options);
    this.emu.control.clearCalls();
    return this.driver.deploy(template, options);
  }

  public destroy(options: DeployOptions = {}): Promise<OperationResult> {
    this.emu.control.clearCalls();
    return this.driver.destroy(STACK_NAME, options);
  }

  /** API calls since the last deploy/destroy started. */
  public get calls(): readonly CallRecord[] {
    return this.emu.calls;
  }

  /**
   * The invariant every step must leave behind: each group holds exactly what is declared on it plus the
   * numbers that were bound there before (by hand, or by a retained resource); every number the stack does
   * not declare has exactly the binding it had at the baseline, except `released` numbers, which this
   * stack once bound and has let go of (they must be unbound, not left behind). Compared for every number
   * in the inventory, so a touched foreign number, a stray binding or a leftover all show up in the diff.
   */
  public expectState(declared: Readonly<Record<string, readonly string[]>>, options: {
    readonly released?: readonly string[];
    /** Bindings that differ from the baseline for a reason the test states (e.g. restored to their owner). */
    readonly overrides?: Readonly<Record<string, Binding | null>>;
  } = {}): void {
    const expected: Record<string, Binding | null> = { ...this.baseline };
    for (const number of options.released ?? []) expected[number] = null;
    for (const [group, numbers] of Object.entries(declared)) {
      for (const number of numbers) {
        if (!(number in expected)) throw new Error(`test bug: ${number} is declared but not in the inventory`);
        expected[number] = { name: 'VoiceConnectorGroupId', value: group };
      }
    }
    Object.assign(expected, options.overrides ?? {});
    expect(this.emu.control.getBindings()).toEqual(expected);
    // The group view, independently of the per-number view: exactly the declared numbers plus what was there before.
    for (const group of Object.values(this.account.groups)) {
      const want = Object.entries(expected).filter(([, b]) => b?.name === 'VoiceConnectorGroupId' && b.value === group).map(([n]) => n).sort();
      expect(this.emu.control.groupNumbers(group)).toEqual(want);
    }
  }

  /** Numbers that appear in any write call (associate/disassociate of any kind) since the step started. */
  public writtenNumbers(): Set<string> {
    return new Set(this.calls.filter((c) => isWrite(c.operation)).flatMap((c) => c.numbers ?? []));
  }

  /** Numbers named by any call at all (reads included) since the step started. */
  public touchedNumbers(): Set<string> {
    return new Set(this.calls.flatMap((c) => c.numbers ?? []));
  }

  /** The numbers this account treats as foreign: a write that names one of them is a bug unless declared with forceAssociate. */
  public get foreign(): string[] {
    const { foreignOnA, onOtherGroup, onVoiceConnector, spare } = this.account;
    return [foreignOnA, onOtherGroup, onVoiceConnector, spare];
  }

  public async close(): Promise<void> {
    await this.containers.shutdown();
    await this.driver?.close();
    await this.emu.close();
  }
}

export function isWrite(operation: CallRecord['operation']): boolean {
  return operation.startsWith('Associate') || operation.startsWith('Disassociate');
}

/** `<phase> <RequestType> <logical id> <ok|FAILED>` per event of the binding resources. */
export function summary(result: OperationResult): string[] {
  return result.events
    .filter((e) => e.resourceType === BINDING_RESOURCE_TYPE)
    .map((e) => `${e.phase} ${e.requestType} ${e.logicalResourceId}${e.delivery > 1 ? ' (again)' : ''} ${e.ok ? 'ok' : 'FAILED'}`);
}

export function eventsFor(result: OperationResult, logicalId: string): SentEvent[] {
  return result.events.filter((e) => e.logicalResourceId === logicalId);
}

export function groupBinding(group: string): Binding {
  return { name: 'VoiceConnectorGroupId', value: group };
}

export interface LifecycleOptions {
  readonly order?: DeployOptions['order'];
  readonly duplicateDelivery?: boolean;
  readonly batchSize?: number;
  /** Pool numbers for the first construct (the second gets 3 more). Default 5. */
  readonly size?: number;
}

/** Every API call the emulator answered during a lifecycle run, step by step. */
export type CallLog = Array<{ readonly step: string; readonly calls: readonly CallRecord[] }>;

/**
 * The whole lifecycle on one stack, with the invariants checked on the emulator after every step:
 * Create (one number already bound counts as done), Update add/remove, a number moved between the two
 * constructs, a group change, a failed Update rolled back, a failed Create of a new construct, a
 * drifted number, and destroy. Used by the fault runs, where the same end states must hold.
 */
export async function runLifecycle(world: World, options: LifecycleOptions = {}): Promise<CallLog> {
  const log: CallLog = [];
  const done = (step: string) => log.push({ step, calls: world.calls });
  const { groups: { a, b }, pool, onOtherGroup, notInInventory } = world.account;
  const size = options.size ?? 5;
  const deployOptions = { order: options.order, duplicateDelivery: options.duplicateDelivery, batchSize: options.batchSize };
  const line1 = pool.slice(0, size);
  const line2 = pool.slice(size, size + 3);
  const [x, y, z] = pool.slice(size + 3, size + 6);
  const ok = (result: OperationResult, status: string) => {
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe(status);
  };
  const noForeignUnbinds = () => {
    const unbound = new Set(world.calls.filter((c) => c.operation.startsWith('Disassociate')).flatMap((c) => c.numbers ?? []));
    expect(world.foreign.filter((n) => unbound.has(n))).toEqual([]);
  };

  // Create; line2's first number was bound to the group by hand beforehand: it counts as done.
  world.emu.control.bind(line2[0], 'VoiceConnectorGroupId', a);
  world.rebaseline();
  let result = await world.deploy([
    { id: 'Line1', group: a, numbers: line1 },
    { id: 'Line2', group: a, numbers: line2 },
  ], deployOptions);
  ok(result, 'CREATE_COMPLETE');
  world.expectState({ [a]: [...line1, ...line2] });
  noForeignUnbinds();
  done('create');

  // Update: Line1 drops its first number and adds x; Line2 is unchanged.
  const line1b = [...line1.slice(1), x];
  result = await world.deploy([
    { id: 'Line1', group: a, numbers: line1b },
    { id: 'Line2', group: a, numbers: line2 },
  ], deployOptions);
  ok(result, 'UPDATE_COMPLETE');
  world.expectState({ [a]: [...line1b, ...line2] }, { released: [line1[0]] });
  const unchanged = [...line1.slice(1), ...line2];
  expect(unchanged.filter((n) => world.touchedNumbers().has(n))).toEqual([]);
  noForeignUnbinds();
  done('update');

  // Refactor: Line1's last original number moves to Line2 in the same deploy; it stays bound.
  const moved = line1[size - 1];
  const line1c = line1b.filter((n) => n !== moved);
  const line2c = [...line2, moved];
  result = await world.deploy([
    { id: 'Line1', group: a, numbers: line1c },
    { id: 'Line2', group: a, numbers: line2c },
  ], deployOptions);
  ok(result, 'UPDATE_COMPLETE');
  world.expectState({ [a]: [...line1c, ...line2c] }, { released: [line1[0]] });
  expect(world.writtenNumbers().has(moved)).toBe(false);
  done('refactor');

  // Group change: Line2 moves to group b (its numbers are its own: no forceAssociate).
  result = await world.deploy([
    { id: 'Line1', group: a, numbers: line1c },
    { id: 'Line2', group: b, numbers: line2c },
  ], deployOptions);
  ok(result, 'UPDATE_COMPLETE');
  // One change per owning shard: an Update that moves the numbers, answering a new physical id (its
  // rollback record), whose old id then gets a Delete in the cleanup that changes nothing.
  const owners = new Set(line2c.map(ownerOf));
  const moveEvents = result.events.filter((e) => owners.has(e.logicalResourceId));
  expect(moveEvents.filter((e) => e.phase === 'deploy').every((e) => e.requestType === 'Update' && e.ok)).toBe(true);
  for (const cleanup of moveEvents.filter((e) => e.phase === 'cleanup')) {
    expect(cleanup.ok).toBe(true);
    expect(cleanup.data).toEqual({});
  }
  expect([...world.writtenNumbers()].sort()).toEqual([...line2c].sort());
  const stable = { [a]: line1c, [b]: line2c };
  world.expectState(stable, { released: [line1[0]] });
  noForeignUnbinds();
  done('group change');

  // Failed Update: Line1's update (add y, drop its first remaining number) succeeds, then Line2's fails
  // on a number bound to someone else's group; the rollback puts Line1 back exactly.
  result = await world.deploy([
    { id: 'Line1', group: a, numbers: [...line1c.slice(1), y] },
    { id: 'Line2', group: b, numbers: [...line2c, onOtherGroup, z] },
  ], deployOptions);
  expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(result.failure).toContain(onOtherGroup);
  expect(result.failure).toContain('PhoneNumberAssociationsExist');
  world.expectState(stable, { released: [line1[0]] });
  noForeignUnbinds();
  done('failed update');

  // Failed Create of a new construct in an existing stack: what it bound is unbound again.
  result = await world.deploy([
    { id: 'Line1', group: a, numbers: line1c },
    { id: 'Line2', group: b, numbers: line2c },
    { id: 'Line3', group: a, numbers: [z, notInInventory] },
  ], deployOptions);
  expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(result.failure).toContain(`${notInInventory}: NotFound`);
  world.expectState(stable, { released: [line1[0]] });
  noForeignUnbinds();
  done('failed create');

  // Drift, then destroy: a number unbound by hand is not an error; everything declared is released.
  world.emu.control.unbind(line1c[0]);
  ok(await world.destroy(deployOptions), 'DELETE_COMPLETE');
  world.expectState({}, { released: [line1[0], ...line1c, ...line2c] });
  noForeignUnbinds();
  done('destroy');
  return log;
}
