/**
 * The bad-input catalogue: every bad input tried against the library, where it is caught, and the exact
 * message the code produces. One list drives both the tests (catalogue.test.ts runs every row and compares
 * the message with messages.json) and docs/bad-inputs.md (rendered from this list and messages.json; a test
 * checks the committed file matches), so the two cannot drift.
 *
 * To refresh messages.json and docs/bad-inputs.md after a deliberate message change:
 *   BAD_INPUTS_UPDATE=1 npx jest test/bad-inputs
 */
import { App, CfnParameter, CfnResource, CustomResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { VoiceConnectorGroupPhoneNumbers, VoiceConnectorGroupPhoneNumbersProps } from '../../src';
import { BINDING_RESOURCE_TYPE, EntryProp, Prop, SHARD_COUNT, shardOf } from '../../src/binding-properties';
import { MAX_NUMBERS_PER_SHARD, MAX_NUMBERS_PER_STACK, PhoneNumberBindings } from '../../src/phone-number-bindings';
import { BATCH_SIZE_CONTEXT } from '../../src/phone-numbers-provider';
import type { FaultOptions } from '../../tools/emulator';
import { buildEvent, DeployOptions, EventInput, fromStack } from '../../tools/local-deploy';
import { Account, World } from '../fuzz/world';

export type CaughtAt = 'synth' | 'deploy' | 'tolerated';

export interface BadInput {
  /** Stable key into messages.json. */
  readonly id: string;
  /** The bad input, in Markdown. */
  readonly input: string;
  readonly caughtAt: CaughtAt;
  /** Runs the input and returns the message (or, for tolerated inputs, what happens instead). */
  readonly run: (world: World) => Promise<string>;
}

const STACK = 'BadInputs';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:BadInputs-Provider';

// ---------------------------------------------------------------------------------------------------
// Synth time

type PropsFor = (stack: Stack) => VoiceConnectorGroupPhoneNumbersProps | VoiceConnectorGroupPhoneNumbersProps[];

function synthError(props: PropsFor, context: Record<string, unknown> = {}): string {
  const app = new App({ context });
  const stack = new Stack(app, STACK);
  try {
    const all = ([] as VoiceConnectorGroupPhoneNumbersProps[]).concat(props(stack));
    all.forEach((p, i) => new VoiceConnectorGroupPhoneNumbers(stack, i === 0 ? 'Bindings' : `Bindings${i + 1}`, p));
    app.synth();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('synth succeeded: the input was not rejected');
}

/** A row caught at synth: the message is the error synthesizing `props` throws. */
function synthRow(id: string, input: string, props: PropsFor, context?: Record<string, unknown>): BadInput {
  return { id, input, caughtAt: 'synth', run: async () => synthError(props, context) };
}

function e164(id: string, value: string, what: string): BadInput {
  return synthRow(id, `\`phoneNumbers: [${JSON.stringify(value)}]\` (${what})`, () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: [value] }));
}

// ---------------------------------------------------------------------------------------------------
// Deploy time, through the local CloudFormation driver and the real handler bundle, against the emulator

interface DeployCase {
  /** Adds the construct(s) under test to the stack. */
  readonly build: (stack: Stack, account: Account) => void;
  readonly options?: (account: Account, world: World) => DeployOptions;
  readonly setup?: (account: Account, world: World) => void;
  readonly faults?: FaultOptions;
}

/** Deploys a fresh stack; returns the first failed binding event's message, or throws if all succeeded. */
async function deployFailure(world: World, c: DeployCase): Promise<string> {
  const result = await deploy(world, c);
  const failed = result.events.find((e) => !e.ok && e.resourceType === BINDING_RESOURCE_TYPE && e.phase === 'deploy');
  if (!failed) throw new Error(`the deploy did not fail: ${result.status}`);
  return failed.error ?? '';
}

/** A row caught at deploy: the message is the first failed binding event's. */
function deployRow(id: string, input: string, c: DeployCase): BadInput {
  return { id, input, caughtAt: 'deploy', run: async (world) => deployFailure(world, c) };
}

/** `phoneNumbers` from a `CommaDelimitedList` parameter, deployed with `value`. */
function numberListRow(id: string, value: string): BadInput {
  return deployRow(id, `\`phoneNumbers\` from a \`CommaDelimitedList\` parameter deployed with \`'${value}'\``, {
    build: (stack) => bind(stack, {
      voiceConnectorGroupId: 'vcg-1',
      phoneNumbers: new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' }).valueAsList,
    }),
    options: () => ({ parameters: { Numbers: value } }),
  });
}

async function deploy(world: World, c: DeployCase) {
  // A cold start: the handler's SDK client reads its endpoint once per container.
  await world.containers.shutdown();
  const account = world.reset(1);
  world.containers.output.length = 0;
  c.setup?.(account, world);
  const app = new App();
  const stack = new Stack(app, STACK);
  c.build(stack, account);
  if (c.faults) world.emu.control.setFaults(c.faults);
  try {
    return await world.driver.deploy(fromStack(stack), { timeoutMs: 60_000, ...c.options?.(account, world) });
  } finally {
    world.emu.control.clearFaults();
  }
}

function bind(stack: Stack, props: VoiceConnectorGroupPhoneNumbersProps): VoiceConnectorGroupPhoneNumbers {
  return new VoiceConnectorGroupPhoneNumbers(stack, 'Bindings', props);
}

/** An escape-hatch override on the binding resource (shard) that holds `number`. */
function override(stack: Stack, number: string, property: string, value: unknown): void {
  const shard = PhoneNumberBindings.of(stack).node.findChild(`Shard${String(shardOf(number)).padStart(2, '0')}`) as CustomResource;
  (shard.node.defaultChild as CfnResource).addPropertyOverride(property, value);
}

/** Binds `number` to group a and overrides `property` of its shard. */
function overrideRow(id: string, input: string, property: string, value: unknown): BadInput {
  return deployRow(id, input, {
    build: (stack, account) => {
      bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
      override(stack, account.pool[0], property, value);
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// Hand-made events: properties as another release of this library rendered them

async function sendEvent(world: World, event: CloudFormationCustomResourceEvent): Promise<string> {
  await world.containers.shutdown();
  const outcome = await world.driver.sendEvent(event, { env: world.env });
  return outcome.ok ? `succeeds: ${JSON.stringify(outcome.data)}` : outcome.error;
}

/** Properties of a binding resource as release 1 rendered them: one resource per construct. */
function releaseOneShape(account: Account, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ServiceToken: SERVICE_TOKEN, SchemaVersion: '1', VoiceConnectorGroupId: account.groups.a, E164PhoneNumbers: account.pool.slice(0, 2), ForceAssociate: 'false', ...extra };
}

/** Properties of the shard that holds `number`, as this release renders them. */
function shardShape(account: Account, number: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ServiceToken: SERVICE_TOKEN,
    [Prop.SCHEMA_VERSION]: '2',
    [Prop.SHARD]: String(shardOf(number)),
    [Prop.BINDINGS]: [{ [EntryProp.GROUP_ID]: account.groups.a, [EntryProp.PHONE_NUMBERS]: [number] }],
    ...extra,
  };
}

function withoutSchemaVersion(props: Record<string, unknown>): Record<string, unknown> {
  const { [Prop.SCHEMA_VERSION]: _, ...rest } = props;
  return rest;
}

/**
 * A hand-made event about two numbers a deployed stack bound to group a (p0 and p1, in two binding
 * resources), sent as if from that stack, so the handler's reads of its own stack find it. A tolerated
 * row's message also says where the two numbers are bound afterwards: that is what happens instead of an
 * error.
 */
function boundEventRow(id: string, input: string, caughtAt: CaughtAt, requestType: 'Create' | 'Update' | 'Delete',
  properties: (account: Account) => Pick<EventInput, 'properties' | 'oldProperties' | 'physicalResourceId'>): BadInput {
  return {
    id,
    input,
    caughtAt,
    run: async (world) => {
      const deployed = await deploy(world, {
        build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 2) }),
      });
      if (deployed.status !== 'CREATE_COMPLETE') throw new Error(`the stack did not deploy: ${deployed.status}`);
      const account = world.account;
      const out = await sendEvent(world, buildEvent({
        requestType,
        stackId: world.driver.getStack(STACK)!.stackId,
        logicalResourceId: 'Bindings',
        resourceType: BINDING_RESOURCE_TYPE,
        physicalResourceId: `${account.groups.a}/Bindings`,
        ...properties(account),
      }));
      return caughtAt === 'tolerated' ? `${out}; ${bindingsOf(world, account.pool.slice(0, 2))}` : out;
    },
  };
}

function bindingsOf(world: World, numbers: readonly string[]): string {
  const label = (b: ReturnType<World['bindings']>[string]) => (b ? `bound to ${b.value === world.account.groups.a ? 'group a' : b.value}` : 'unbound');
  return numbers.map((n) => `${n} ${label(world.emu.control.getBinding(n))}`).join(', ');
}

/** `count` distinct numbers whose shard is `shard`, from +1206700xxxx upwards. */
function numbersInShard(shard: number, count: number, from = 0): string[] {
  const out: string[] = [];
  for (let i = from; out.length < count; i++) {
    const n = `+1206${String(7_000_000 + i).padStart(7, '0')}`;
    if (shardOf(n) === shard) out.push(n);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

export const CATALOGUE: readonly BadInput[] = [
  // E.164 forms
  e164('e164-missing-digits', '+1', 'missing digits: country code only'),
  e164('e164-leading-zero', '+02065550100', 'leading 0'),
  e164('e164-letters', '+1206555CALL', 'letters (vanity number)'),
  e164('e164-spaces', '+1 206 555 0100', 'spaces'),
  e164('e164-dashes', '+1-206-555-0100', 'dashes'),
  e164('e164-parentheses', '+1 (206) 555-0100', 'national formatting'),
  e164('e164-too-long', '+1206555010012345', '16 digits; E.164 allows 15'),
  e164('e164-double-plus', '++12065550100', 'two plus signs'),
  e164('e164-trailing-newline', '+12065550100\n', 'trailing newline (copied from a file)'),
  e164('e164-empty-string', '', 'empty string'),
  synthRow('e164-plus-missing-and-present', "`phoneNumbers: ['+12065550100', '12065550100']` (the same number with and without '+')",
    () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100', '12065550100'] })),
  synthRow('e164-exact-duplicate', "`phoneNumbers: ['+12065550100', '+12065550100']`",
    () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100', '+12065550100'] })),
  {
    id: 'e164-plus-missing-alone',
    input: "`phoneNumbers: ['12065550100']` (no '+', no duplicate)",
    caughtAt: 'tolerated',
    run: async () => {
      const stack = new Stack(new App(), STACK);
      const construct = bind(stack, { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['12065550100'] });
      return `accepted and normalised: phoneNumbers attribute ${JSON.stringify(construct.phoneNumbers)}`;
    },
  },
  synthRow('empty-list', '`phoneNumbers: []`', () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: [] })),
  synthRow('blank-group-empty', "`voiceConnectorGroupId: ''`", () => ({ voiceConnectorGroupId: '', phoneNumbers: ['+12065550100'] })),
  synthRow('blank-group-spaces', "`voiceConnectorGroupId: '   '`", () => ({ voiceConnectorGroupId: '   ', phoneNumbers: ['+12065550100'] })),
  {
    id: 'declared-twice-in-app',
    input: 'the same number declared by two constructs of one app',
    caughtAt: 'synth',
    run: async () => synthError(() => [
      { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] },
      { voiceConnectorGroupId: 'vcg-2', phoneNumbers: ['12065550100'] },
    ]),
  },
  synthRow('batch-size-context', `context \`${BATCH_SIZE_CONTEXT}: 0\``,
    () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] }), { [BATCH_SIZE_CONTEXT]: 0 }),

  synthRow('removal-policy-snapshot', '`removalPolicy: RemovalPolicy.SNAPSHOT`',
    () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], removalPolicy: RemovalPolicy.SNAPSHOT })),
  synthRow('exclusive-disagrees', 'two constructs on one group, one `exclusive: true` and one not',
    () => [
      { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], exclusive: true },
      { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] },
    ]),
  synthRow('exclusive-token-numbers', '`exclusive: true` with `phoneNumbers` from a `CommaDelimitedList` parameter',
    (stack) => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' }).valueAsList, exclusive: true })),
  synthRow('drift-detection-disagrees', 'two constructs on one group with different `driftDetection` (one repairs, one only reports)',
    () => [
      { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], driftDetection: { repair: true } },
      { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'], driftDetection: {} },
    ]),
  synthRow('stack-over-scale-limit', `${MAX_NUMBERS_PER_STACK + 1} numbers in one stack`,
    () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: Array.from({ length: MAX_NUMBERS_PER_STACK + 1 }, (_, i) => `+1206${String(1_000_000 + i)}`) })),
  synthRow('shard-over-limit', `${MAX_NUMBERS_PER_SHARD + 1} numbers in one stack that all hash to the same binding resource`,
    () => ({ voiceConnectorGroupId: 'vcg-1', phoneNumbers: numbersInShard(7, MAX_NUMBERS_PER_SHARD + 1) })),

  // Tokens that resolve to bad values at deploy time
  deployRow('token-group-blank', "`voiceConnectorGroupId` from a `CfnParameter` deployed with `' '`", {
    build: (stack, account) => bind(stack, {
      voiceConnectorGroupId: new CfnParameter(stack, 'GroupId', { type: 'String' }).valueAsString,
      phoneNumbers: [account.pool[0]],
    }),
    options: () => ({ parameters: { GroupId: ' ' } }),
  }),
  numberListRow('token-number-list-bad', '+12065551000,+1-206-555-1001'),
  numberListRow('token-number-list-empty', ''),
  numberListRow('token-number-list-duplicate', '+12065551000,12065551000'),
  deployRow('token-number-element-bad', "one element of `phoneNumbers` from a `String` parameter deployed with `'206-555-1001'`", {
    build: (stack, account) => bind(stack, {
      voiceConnectorGroupId: account.groups.a,
      phoneNumbers: [account.pool[0], new CfnParameter(stack, 'Extra', { type: 'String' }).valueAsString],
    }),
    options: () => ({ parameters: { Extra: '206-555-1001' } }),
  }),

  // The account
  deployRow('unknown-group-one-number', 'a group id that does not exist (one number declared)', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: 'vcg-does-not-exist', phoneNumbers: [account.pool[0]] }),
  }),
  deployRow('unknown-group-two-numbers', 'a group id that does not exist (two numbers declared, in two binding resources: each fails with its own number)', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: 'vcg-does-not-exist', phoneNumbers: account.pool.slice(0, 2) }),
  }),
  deployRow('not-in-inventory', 'a number that is not in the account', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0], account.notInInventory] }),
  }),
  deployRow('wrong-product-type', 'a number of the wrong product type (`SipMediaApplicationDialIn`)', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.wrongProduct] }),
  }),
  deployRow('bound-to-voice-connector', 'a number bound to a single voice connector, without `forceAssociate`', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.onVoiceConnector] }),
  }),
  deployRow('bound-to-other-group', 'a number bound to another group, without `forceAssociate`', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0], account.onOtherGroup] }),
  }),
  deployRow('access-denied-everything', 'the handler role may not call Chime SDK Voice at all (every call answers `AccessDeniedException`)', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 2) }),
    faults: { forcedErrors: { '*': { exception: 'AccessDeniedException', message: 'User is not authorized to perform: chime:ListPhoneNumbers' } } },
  }),
  deployRow('forbidden-associate', 'reads are allowed but `AssociatePhoneNumbersWithVoiceConnectorGroup` answers `ForbiddenException` (an SCP)', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 2) }),
    faults: { forcedErrors: { AssociatePhoneNumbersWithVoiceConnectorGroup: { exception: 'ForbiddenException', message: 'Explicit deny in a service control policy' } } },
  }),
  {
    id: 'access-denied-get-phone-number',
    input: 'updating one number of many, with `GetPhoneNumber` denied (`AccessDeniedException`)',
    caughtAt: 'deploy',
    run: async (world) => {
      const account = world.reset(1);
      const numbers = Array.from({ length: 3 }, (_, i) => account.pool[i]);
      const build = (list: string[]) => {
        const stack = new Stack(new App(), STACK);
        bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: list });
        return fromStack(stack);
      };
      // 101 declared numbers would be needed for a per-number read: instead, deny GetPhoneNumber and
      // force an owner lookup with a contested number under forceAssociate.
      await world.driver.deploy(build(numbers), { timeoutMs: 60_000 });
      const stack = new Stack(new App(), STACK);
      bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [...numbers, account.onOtherGroup], forceAssociate: true });
      world.emu.control.setFaults({ forcedErrors: { GetPhoneNumber: { exception: 'AccessDeniedException', message: 'User is not authorized to perform: chime:GetPhoneNumber' } } });
      try {
        const result = await world.driver.deploy(fromStack(stack), { timeoutMs: 60_000 });
        return result.events.find((e) => !e.ok && e.phase === 'deploy')?.error ?? `did not fail: ${result.status}`;
      } finally {
        world.emu.control.clearFaults();
      }
    },
  },
  deployRow('endpoint-closed-port', 'a region without Chime SDK Voice: nothing listens at the endpoint (`AWS_ENDPOINT_URL_CHIME_SDK_VOICE=http://127.0.0.1:9`), 20 s Lambda budget', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 2) }),
    options: () => ({ env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: 'http://127.0.0.1:9' }, timeoutMs: 20_000 }),
  }),
  deployRow('endpoint-unresolvable', 'a region without Chime SDK Voice: the endpoint does not resolve (`AWS_ENDPOINT_URL_CHIME_SDK_VOICE=http://voice-chime.invalid`), 20 s Lambda budget', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 2) }),
    options: () => ({ env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: 'http://voice-chime.invalid' }, timeoutMs: 20_000 }),
  }),

  // Property shapes the construct does not render (escape hatches, other releases)
  overrideRow('force-associate-yes', "`Bindings.0.ForceAssociate: 'yes'` (an escape-hatch override on a binding resource)", 'Bindings.0.ForceAssociate', 'yes'),
  overrideRow('force-associate-true-string-caps', "`Bindings.0.ForceAssociate: 'True'` (an escape-hatch override)", 'Bindings.0.ForceAssociate', 'True'),
  overrideRow('retain-yes', "`Bindings.0.Retain: 'yes'` (an escape-hatch override)", 'Bindings.0.Retain', 'yes'),
  overrideRow('exclusive-groups-not-list', "`ExclusiveGroups: 'maybe'` (an escape-hatch override)", 'ExclusiveGroups', 'maybe'),
  overrideRow('reconcile-unknown', "`Bindings.0.Reconcile: 'SOMETIMES'` (an escape-hatch override)", 'Bindings.0.Reconcile', 'SOMETIMES'),
  overrideRow('shard-wrong', "`Shard: '64'` (an escape-hatch override)", 'Shard', '64'),
  overrideRow('bindings-not-list', "`Bindings: 'none'` (an escape-hatch override)", 'Bindings', 'none'),
  deployRow('number-in-wrong-shard', "a number added to another shard's list (`Bindings.0.E164PhoneNumbers` overridden)", {
    build: (stack, account) => {
      bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
      const stranger = numbersInShard((shardOf(account.pool[0]) + 1) % SHARD_COUNT, 1)[0];
      override(stack, account.pool[0], 'Bindings.0.E164PhoneNumbers', [account.pool[0], stranger]);
    },
  }),
  deployRow('declared-twice-via-token-list', 'a number declared by a literal list and by another construct\'s `CommaDelimitedList` parameter', {
    build: (stack, account) => {
      bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
      new VoiceConnectorGroupPhoneNumbers(stack, 'FromParameter', {
        voiceConnectorGroupId: account.groups.b,
        phoneNumbers: new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' }).valueAsList,
      });
    },
    options: (account) => ({ parameters: { Numbers: `${account.pool[1]},${account.pool[0]}` } }),
  }),
  {
    id: 'record-too-large',
    input: 'one deploy that takes (`forceAssociate`) 25 numbers of one binding resource from 25 different groups',
    caughtAt: 'deploy',
    run: async (world) => deployFailure(world, {
      setup: (account, w) => {
        const numbers = numbersInShard(shardOf(account.pool[0]), 25);
        w.emu.control.seedNumbers(numbers);
        numbers.forEach((n, i) => w.emu.control.bind(n, 'VoiceConnectorGroupId', w.emu.control.createGroup({ name: `elsewhere-${i}` }).VoiceConnectorGroupId));
      },
      build: (stack, account) => bind(stack, {
        voiceConnectorGroupId: account.groups.a, phoneNumbers: numbersInShard(shardOf(account.pool[0]), 25), forceAssociate: true,
      }),
    }),
  },
  {
    id: 'unknown-extra-property',
    input: "an unknown extra property `Colour: 'blue'` (an escape-hatch override, or a newer release)",
    caughtAt: 'tolerated',
    run: async (world) => {
      const result = await deploy(world, {
        build: (stack, account) => {
          bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
          override(stack, account.pool[0], 'Colour', 'blue');
        },
        options: () => ({ env: { LOG_LEVEL: 'INFO' } }),
      });
      const logged = world.containers.output.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.message === 'event');
      return `deploy ${result.status}; the handler logs {"message":"event", ..., "unknownProperties":${JSON.stringify(logged?.unknownProperties)}}`;
    },
  },
  boundEventRow('schema-version-newer-create', "Create with `SchemaVersion: '3'` (a template rendered by a newer release, handled by this one)", 'deploy', 'Create',
    (account) => ({ properties: shardShape(account, account.pool[0], { [Prop.SCHEMA_VERSION]: '3' }) })),
  boundEventRow('schema-version-1-create', "Create with release 1's properties (`SchemaVersion: '1'`, one resource per construct)", 'deploy', 'Create',
    (account) => ({ properties: releaseOneShape(account) })),
  boundEventRow('schema-version-missing-create', 'Create with no `SchemaVersion` (properties of a release before it existed)', 'deploy', 'Create',
    (account) => ({ properties: withoutSchemaVersion(releaseOneShape(account)) })),
  boundEventRow('schema-version-1-delete', "Delete of a release-1 resource (`SchemaVersion: '1'`) in the cleanup of the upgrade that replaced it with binding resources", 'tolerated', 'Delete',
    (account) => ({ properties: releaseOneShape(account) })),
  boundEventRow('schema-version-missing-delete', 'Delete with no `SchemaVersion` (a resource deployed by a release before it existed)', 'tolerated', 'Delete',
    (account) => ({ properties: withoutSchemaVersion(releaseOneShape(account)) })),
  boundEventRow('delete-unreadable-properties', 'Delete whose properties have no shard and no bindings', 'tolerated', 'Delete', () => ({
    properties: { ServiceToken: SERVICE_TOKEN },
  })),

  // Time
  deployRow('lambda-near-timeout', 'a Lambda invoked with 2.5 s left on every call (less than the 3 s the handler keeps for its answer); the framework polls isComplete for 4 s', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 3) }),
    options: () => ({ timeoutMs: 2_500, completionTimeoutMs: 4_000 }),
  }),
  deployRow('lambda-timeout-slow-service', 'a 5 s Lambda budget against a service answering in 1.5 s (emulator latency); the framework polls isComplete for 8 s', {
    build: (stack, account) => bind(stack, { voiceConnectorGroupId: account.groups.a, phoneNumbers: account.pool.slice(0, 3) }),
    options: () => ({ timeoutMs: 5_000, completionTimeoutMs: 8_000 }),
    faults: { latencyMs: 1_500 },
  }),
];

// ---------------------------------------------------------------------------------------------------
// docs/bad-inputs.md

const CAUGHT: Record<CaughtAt, string> = { synth: 'synth', deploy: 'deploy', tolerated: 'tolerated (no error)' };

function cell(message: string): string {
  return message.split('\n').map((line) => {
    const escaped = line.replace(/\|/g, '\\|');
    return escaped.includes('`') ? `\`\` ${escaped} \`\`` : `\`${escaped}\``;
  }).join('<br>');
}

export function renderDoc(messages: Readonly<Record<string, string>>): string {
  const rows = CATALOGUE.map((c, i) => `| ${i + 1} | ${c.input.replace(/\n/g, ' ').replace(/\|/g, '\\|')} | ${CAUGHT[c.caughtAt]} | ${cell(messages[c.id] ?? '(not run)')} |`);
  return [
    '# Bad inputs: where they are caught and what the message says',
    '',
    '<!-- Generated from test/bad-inputs/catalogue.ts and test/bad-inputs/messages.json by',
    '     `BAD_INPUTS_UPDATE=1 npx jest test/bad-inputs`. Do not edit by hand: a test checks this file. -->',
    '',
    'Every row was produced by running it: synth-time rows synthesize the construct; deploy-time rows deploy a',
    'real CDK stack through the local CloudFormation driver (tools/local-deploy) and the bundled handler, against',
    'the local Chime SDK Voice emulator (tools/emulator), or send the handler a hand-made CloudFormation event.',
    'Phone numbers `+1206555xxxx` and group ids `00000000-0000-4000-8000-00000000000N` come from the emulator',
    "account the tests seed (group `...0001` is the stack's group, `...0003` someone else's); `Bindings...` is the",
    'logical id of the binding resource. Deploy-time messages are what CloudFormation shows as the resource\'s',
    'status reason. "Tolerated" rows are not errors: the column says what happens instead.',
    '',
    '| # | bad input | caught at | message |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
