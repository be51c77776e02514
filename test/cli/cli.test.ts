/**
 * The `cdk-chime-vcg` commands in process, against the emulator: plan's verdicts (and that the deploy then
 * does what it said), import's code, local-deploy's state between runs, and each bad input's one line.
 * test/package/ runs the same commands through the packed package in a scratch app.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { App, Aws, CfnParameter, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { VoiceConnectorGroup, VoiceConnectorGroupPhoneNumbers } from '../../src';
import { shardOf } from '../../src/binding-properties';
import { UsageError } from '../../tools/cli/args';
import { describeAwsError } from '../../tools/cli/aws';
import { main } from '../../tools/cli/index';
import { cloudFormationSource, plan, planExitCode, READ_ONE_BY_ONE_UP_TO, type PlanResult } from '../../tools/cli/plan';
import { startEmulator, type Emulator } from '../../tools/emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, readCloudAssembly, withEnv } from '../../tools/local-deploy';
import { emulatorEnv, phone, seedAccount, type SeededAccount } from '../support/account';

jest.setTimeout(60_000);

let emu: Emulator;
let account: SeededAccount;
let work: string;

beforeAll(async () => {
  emu = await startEmulator({ seed: 5 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.control.reset();
  account = seedAccount(emu.control, 12, [{ number: phone(200), productType: 'SipMediaApplicationDialIn' }]);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-chime-vcg-'));
});
afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly out: string;
}

async function cli(...argv: string[]): Promise<Run> {
  return cliWith({}, ...argv);
}

async function cliWith(extraEnv: Record<string, string>, ...argv: string[]): Promise<Run> {
  let out = '';
  const env = { ...emulatorEnv(emu), ...extraEnv };
  const code = await withEnv(env, () => main(argv, (text) => { out += text; }));
  return { code, out };
}

async function planJson(...argv: string[]): Promise<PlanResult & { exitCode: number }> {
  const { code, out } = await cli('plan', ...argv, '--json');
  const parsed = JSON.parse(out) as PlanResult & { exitCode: number };
  expect(parsed.exitCode).toBe(code);
  return parsed;
}

/** Synthesizes an app into `work/<name>` and answers the directory. */
function synth(name: string, build: (app: App) => void): string {
  const outdir = path.join(work, name);
  const app = new App({ outdir });
  build(app);
  app.synth();
  return outdir;
}

function telephony(app: App, id = 'Telephony'): Stack {
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

function changes(result: PlanResult, stack = 'Telephony'): string[] {
  return result.stacks.find((s) => s.stackName === stack)!.changes.map((c) => `${c.action} ${c.number}${c.from ? ` <- ${c.from.kind === 'group' ? 'group' : 'voice connector'} ${c.from.id}` : ''}`);
}

function writes(): number {
  return emu.calls.filter((c) => /^(Associate|Disassociate)/.test(c.operation)).length;
}

describe('plan', () => {
  test('a first deploy: adopts what is already bound, binds the rest, names undeclared numbers, and writes nothing', async () => {
    const [p0, p1] = account.pool;
    emu.control.bind(p0, 'VoiceConnectorGroupId', account.groups.a);
    const app = synth('first', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'Support', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0, p1] });
    });
    emu.control.clearCalls();
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(result.exitCode).toBe(0);
    expect(result.stacks[0].deployed).toBe('not deployed');
    expect(changes(result).sort()).toEqual([`adopt ${p0}`, `bind ${p1}`, `undeclared ${account.foreignOnA}`].sort());
    expect(writes()).toBe(0);

    const text = await cli('plan', '--app', app, '--local-state', path.join(work, 'none.json'));
    expect(text.code).toBe(0);
    expect(text.out).toContain(`group a (${account.groups.a})`);
    expect(text.out).toMatch(new RegExp(`bind +\\${p1}`));
    expect(text.out).toContain('The deploy would succeed: 1 number(s) change.');
  });

  test('refuses, with the reason, what the deploy would refuse; takes with forceAssociate; exits 1', async () => {
    const [p0] = account.pool;
    const app = synth('refusals', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroupPhoneNumbers(stack, 'Plain', {
        voiceConnectorGroupId: account.groups.a,
        phoneNumbers: [p0, account.onOtherGroup, account.notInInventory, phone(200)],
      });
      new VoiceConnectorGroupPhoneNumbers(stack, 'Forced', {
        voiceConnectorGroupId: account.groups.b, phoneNumbers: [account.onVoiceConnector], forceAssociate: true,
      });
      new VoiceConnectorGroupPhoneNumbers(stack, 'Missing', { voiceConnectorGroupId: 'no-such-group', phoneNumbers: [account.spare] });
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(result.exitCode).toBe(1);
    expect(result.wouldSucceed).toBe(false);
    const byNumber = new Map(result.stacks[0].changes.map((c) => [c.number, c]));
    expect(byNumber.get(p0)!.action).toBe('bind');
    expect(byNumber.get(account.onOtherGroup)).toMatchObject({ action: 'refuse', from: { kind: 'group', id: account.groups.other } });
    expect(byNumber.get(account.onOtherGroup)!.reason).toContain('forceAssociate: true');
    expect(byNumber.get(account.notInInventory)).toMatchObject({ action: 'refuse' });
    expect(byNumber.get(account.notInInventory)!.reason).toContain('not in this account\'s phone number inventory');
    expect(byNumber.get(phone(200))!.reason).toContain('product type is SipMediaApplicationDialIn');
    expect(byNumber.get(account.onVoiceConnector)).toMatchObject({ action: 'take', from: { kind: 'voiceConnector', id: account.voiceConnector } });
    expect(result.stacks[0].errors.join('\n')).toContain('group no-such-group does not exist in us-east-1');

    const text = await cli('plan', '--app', app, '--local-state', path.join(work, 'none.json'));
    expect(text.code).toBe(1);
    expect(text.out).toContain('The deploy would fail');
  });

  test('against what local-deploy deployed: unbinds removed numbers, moves between groups, and the deploy then does exactly that', async () => {
    const [p0, p1, p2, p3] = account.pool;
    const state = path.join(work, 'state.json');
    const v1 = synth('v1', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroupPhoneNumbers(stack, 'A', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0, p1, p2] });
    });
    const deployed = await cli('local-deploy', '--app', v1, '--state', state);
    expect(deployed.code).toBe(0);
    expect(deployed.out).toContain('Telephony: deploy ended CREATE_COMPLETE');
    expect(deployed.out).toContain(`group a (${account.groups.a}): 4 number(s)`);

    const v2 = synth('v2', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroupPhoneNumbers(stack, 'A', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0] });
      new VoiceConnectorGroupPhoneNumbers(stack, 'B', { voiceConnectorGroupId: account.groups.b, phoneNumbers: [p1, p3] });
    });
    const result = await planJson('--app', v2, '--local-state', state);
    expect(result.exitCode).toBe(0);
    expect(result.stacks[0].deployed).toBe('local-state');
    expect(changes(result).sort()).toEqual([
      `bind ${p3}`, `move ${p1} <- group ${account.groups.a}`, `unbind ${p2}`, `undeclared ${account.foreignOnA}`,
    ].sort());
    expect(result.stacks[0].unchanged).toBe(1);

    const second = await cli('local-deploy', '--app', v2, '--state', state);
    expect(second.code).toBe(0);
    expect(second.out).toContain('Telephony: deploy ended UPDATE_COMPLETE');
    const bindings = emu.control.getBindings();
    expect([p0, p1, p2, p3].map((n) => bindings[n]?.value ?? null)).toEqual([account.groups.a, account.groups.b, null, account.groups.b]);

    // Nothing left to do: the same app plans no change.
    const again = await planJson('--app', v2, '--local-state', state);
    expect(changes(again)).toEqual([`undeclared ${account.foreignOnA}`]);

    const destroyed = await cli('local-deploy', '--app', v2, '--state', state, '--destroy');
    expect(destroyed.code).toBe(0);
    expect(destroyed.out).toContain('Telephony: destroy ended DELETE_COMPLETE');
    expect([p0, p1, p3].map((n) => emu.control.getBindings()[n])).toEqual([null, null, null]);
    expect(emu.control.getBindings()[account.foreignOnA]?.value).toBe(account.groups.a);
  });

  test('a large first deploy lists the inventory instead of reading each number, with the same verdicts', async () => {
    const many = Array.from({ length: READ_ONE_BY_ONE_UP_TO + 50 }, (_, i) => phone(300 + i));
    emu.control.seedNumbers([...many, { number: phone(900), productType: 'SipMediaApplicationDialIn' }]);
    emu.control.bind(many[0], 'VoiceConnectorGroupId', account.groups.other);
    const app = synth('large', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'Many', {
        voiceConnectorGroupId: account.groups.a, phoneNumbers: [...many, account.notInInventory, phone(900)],
      });
    });
    emu.control.clearCalls();
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    const gets = emu.calls.filter((c) => c.operation === 'GetPhoneNumber').length;
    expect(gets).toBe(0);
    const byNumber = new Map(result.stacks[0].changes.map((c) => [c.number, c]));
    expect(byNumber.get(many[0])).toMatchObject({ action: 'refuse', from: { kind: 'group', id: account.groups.other } });
    expect(byNumber.get(account.notInInventory)!.reason).toContain('not in this account\'s phone number inventory');
    expect(byNumber.get(phone(900))!.reason).toContain('product type is SipMediaApplicationDialIn');
    expect(result.stacks[0].changes.filter((c) => c.action === 'bind')).toHaveLength(many.length - 1);
  });

  test('an exclusive group: plans to unbind what nothing declares there', async () => {
    const [p0] = account.pool;
    const app = synth('exclusive', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'A', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0], exclusive: true });
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(changes(result).sort()).toEqual([`bind ${p0}`, `unbind ${account.foreignOnA}`].sort());
    expect(result.stacks[0].changes.find((c) => c.action === 'unbind')!.reason).toContain('exclusive');
  });

  test('names tokens it cannot resolve (exit 3), and resolves a parameter given with --parameter', async () => {
    const [p0, p1] = account.pool;
    const app = synth('tokens', (a) => {
      const stack = telephony(a);
      const groupId = new CfnParameter(stack, 'GroupId', { type: 'String' });
      new VoiceConnectorGroupPhoneNumbers(stack, 'FromParameter', { voiceConnectorGroupId: groupId.valueAsString, phoneNumbers: [p0] });
      new VoiceConnectorGroupPhoneNumbers(stack, 'FromImport', { voiceConnectorGroupId: Fn.importValue('SharedGroupId'), phoneNumbers: [p1] });
    });
    const unresolved = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(unresolved.exitCode).toBe(3);
    const tokens = unresolved.stacks[0].unresolved.map((u) => u.token).sort();
    expect(tokens).toEqual(['imported value "SharedGroupId"', 'parameter GroupId']);
    expect(unresolved.stacks[0].unresolved.find((u) => u.token === 'parameter GroupId')).toMatchObject({ numbers: [p0], fix: 'pass --parameter GroupId=<value>' });
    expect(changes(unresolved)).toEqual([]);

    const withParameter = await cli('plan', '--app', app, '--local-state', path.join(work, 'none.json'), '--parameter', `GroupId=${account.groups.b}`);
    expect(withParameter.code).toBe(3); // the import is still unresolved
    expect(withParameter.out).toMatch(new RegExp(`group b \\(${account.groups.b}\\)\\n +bind +\\${p0}`));
    expect(withParameter.out).toContain('uses imported value "SharedGroupId"');
  });

  test('a group the app creates: plans its numbers onto the new group, and finds it by name once it exists', async () => {
    const [p0] = account.pool;
    const app = synth('new-group', (a) => {
      const group = new VoiceConnectorGroup(telephony(a), 'Sales', { name: 'sales' });
      group.addPhoneNumbers('SalesNumbers', [p0]);
    });
    const before = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(before.exitCode).toBe(0);
    expect(changes(before)).toEqual([`bind ${p0}`]);
    expect(before.groupNames[before.stacks[0].changes[0].groupId]).toBe("(new group 'sales')");

    const made = emu.control.createGroup({ name: 'sales' }).VoiceConnectorGroupId!;
    const after = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(after.stacks[0].changes[0]).toMatchObject({ action: 'bind', number: p0, groupId: made });
  });

  test('across stacks: a move between stacks in the wrong order is refused with the safe order; --stack plans one stack', async () => {
    const [p0, p1] = account.pool;
    const state = path.join(work, 'state.json');
    const v1 = synth('v1', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a, 'Old'), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0] });
      new VoiceConnectorGroupPhoneNumbers(telephony(a, 'New'), 'N', { voiceConnectorGroupId: account.groups.b, phoneNumbers: [p1] });
    });
    expect((await cli('local-deploy', '--app', v1, '--state', state)).code).toBe(0);

    const moved = synth('moved', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a, 'Old'), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p1] });
      new VoiceConnectorGroupPhoneNumbers(telephony(a, 'New'), 'N', { voiceConnectorGroupId: account.groups.b, phoneNumbers: [p0] });
    });
    const result = await planJson('--app', moved, '--local-state', state);
    expect(result.exitCode).toBe(1);
    const refused = result.stacks.find((s) => s.stackName === 'New')!.changes.find((c) => c.number === p0)!;
    expect(refused).toMatchObject({ action: 'refuse', from: { kind: 'group', id: account.groups.a } });
    expect(refused.reason).toContain('deploy Old first');
    expect(result.stacks.find((s) => s.stackName === 'Old')!.changes.find((c) => c.number === p0)).toMatchObject({ action: 'unbind' });

    // A swap: each number waits for the other stack to let go, so no order works in one deploy.
    const one = await planJson('--app', moved, '--local-state', state, '--stack', 'Old');
    expect(one.exitCode).toBe(1);
    expect(one.stacks.map((s) => s.stackName)).toEqual(['Old']);
    expect(one.stacks[0].changes.find((c) => c.number === p1)!.reason).toContain('deploy New first');
  });
});

describe('plan follows what CloudFormation would really send', () => {
  /** A CloudFormation stand-in for plan's read-only calls, as DescribeStacks and GetTemplate would answer. */
  function cloudFormation(stacks: Record<string, { status: string; template: unknown; parameters?: Record<string, string> }>) {
    return cloudFormationSource({
      describe: async (name) => (stacks[name] ? { status: stacks[name].status, parameters: stacks[name].parameters ?? {} } : undefined),
      getTemplate: async (name) => stacks[name].template as Record<string, unknown>,
      physicalIdOf: async () => undefined,
    });
  }

  async function planWith(app: string, source: ReturnType<typeof cloudFormation>, parameters: Record<string, string> = {}) {
    const client = new ChimeSDKVoiceClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      return await plan(readCloudAssembly(app), { client, region: 'us-east-1', source, parameters });
    } finally {
      client.destroy();
    }
  }

  function templateOf(app: string): unknown {
    return readCloudAssembly(app)[0].template;
  }

  test('through CloudFormation\'s API: status, parameters, the deployed template and the group\'s physical id', async () => {
    const [p0, p1] = account.pool;
    const app = synth('through-api', (a) => {
      const stack = telephony(a);
      const numbers = new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' });
      const group = new VoiceConnectorGroup(stack, 'Made', { name: 'made-by-stack' });
      group.addPhoneNumbers('Listed', numbers.valueAsList);
    });
    const driver = new LocalDeployDriver({
      handlers: LIBRARY_HANDLERS,
      env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', LOG_LEVEL: 'ERROR' },
    });
    try {
      const deployed = await driver.deploy(readCloudAssembly(app)[0], { parameters: { Numbers: p0 } });
      expect(deployed.status).toBe('CREATE_COMPLETE');
      // A second group of the same name, made now: only the deployed physical id tells them apart.
      emu.control.createGroup({ name: 'made-by-stack' });
      const cloudformation = { AWS_ENDPOINT_URL_CLOUDFORMATION: await driver.controlPlane.endpoint() };
      const same = await cliWith(cloudformation, 'plan', '--app', app, '--json');
      const parsed = JSON.parse(same.out) as PlanResult;
      expect(parsed.stacks[0].deployed).toBe('cloudformation');
      expect(parsed.stacks[0].errors).toEqual([]);
      expect(changes(parsed)).toEqual([]);
      expect(same.code).toBe(0);
      const next = JSON.parse((await cliWith(cloudformation, 'plan', '--app', app, '--json', '--parameter', `Numbers=${p0},${p1}`)).out) as PlanResult;
      expect(changes(next)).toEqual([`bind ${p1}`]);
      const made = Object.values(deployed.resources).find((r) => r.resourceType === 'Custom::VoiceConnectorGroup')!.physicalResourceId;
      expect(next.stacks[0].changes[0].groupId).toBe(made);
    } finally {
      await driver.close();
    }
  });

  test('a stack whose creation was rolled back is planned as a first deploy; one that cannot be updated is an error', async () => {
    const app = synth('rolled-back', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.onOtherGroup] });
    });
    const rolledBack = await planWith(app, cloudFormation({ Telephony: { status: 'ROLLBACK_COMPLETE', template: templateOf(app) } }));
    expect(rolledBack.stacks[0].deployed).toBe('not deployed');
    expect(changes(rolledBack)).toEqual([`refuse ${account.onOtherGroup} <- group ${account.groups.other}`, `undeclared ${account.foreignOnA}`]);
    expect(planExitCode(rolledBack)).toBe(1);

    const stuck = await planWith(app, cloudFormation({ Telephony: { status: 'UPDATE_ROLLBACK_FAILED', template: templateOf(app) } }));
    expect(stuck.stacks[0].errors[0]).toContain('the stack is UPDATE_ROLLBACK_FAILED: CloudFormation refuses a deploy');
    expect(planExitCode(stuck)).toBe(1);
  });

  test('the deployed side resolves with the deployed parameter values, the new side with --parameter first', async () => {
    const [p0] = account.pool;
    emu.control.bind(p0, 'VoiceConnectorGroupId', account.groups.a);
    const app = synth('parameter', (a) => {
      const stack = telephony(a);
      const groupId = new CfnParameter(stack, 'GroupId', { type: 'String' });
      new VoiceConnectorGroupPhoneNumbers(stack, 'N', { voiceConnectorGroupId: groupId.valueAsString, phoneNumbers: [p0] });
    });
    const source = cloudFormation({ Telephony: { status: 'UPDATE_COMPLETE', template: templateOf(app), parameters: { GroupId: account.groups.a } } });
    const same = await planWith(app, source);
    expect(planExitCode(same)).toBe(0);
    expect(changes(same)).toEqual([`undeclared ${account.foreignOnA}`]);
    const moved = await planWith(app, source, { GroupId: account.groups.b });
    expect(changes(moved)).toEqual([`move ${p0} <- group ${account.groups.a}`]);
  });

  test('a CommaDelimitedList parameter is a list, as CloudFormation hands it to the template', async () => {
    const [p0, p1] = account.pool;
    const app = synth('list', (a) => {
      const stack = telephony(a);
      const numbers = new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' });
      new VoiceConnectorGroupPhoneNumbers(stack, 'N', { voiceConnectorGroupId: account.groups.b, phoneNumbers: numbers.valueAsList });
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'), '--parameter', `Numbers=${p0},${p1}`);
    expect(result.exitCode).toBe(0);
    expect(changes(result).sort()).toEqual([`bind ${p0}`, `bind ${p1}`]);
  });

  test('a resource whose properties did not change gets no event: a number bound by hand to an exclusive group stays', async () => {
    const [p0, p1] = account.pool;
    const state = path.join(work, 'state.json');
    const app = synth('exclusive', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'A', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0], exclusive: true });
    });
    expect((await cli('local-deploy', '--app', app, '--state', state)).code).toBe(0);
    emu.control.bind(p1, 'VoiceConnectorGroupId', account.groups.a);
    const result = await planJson('--app', app, '--local-state', state);
    expect(changes(result)).toEqual([`undeclared ${p1}`]);
    expect((await cli('local-deploy', '--app', app, '--state', state)).code).toBe(0);
    expect(emu.control.getBindings()[p1]?.value).toBe(account.groups.a);
  });

  test('a binding resource it cannot resolve is not planned at all: its deployed numbers are not shown as unbound', async () => {
    const [p0] = account.pool;
    const state = path.join(work, 'state.json');
    const v1 = synth('v1', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0] });
    });
    expect((await cli('local-deploy', '--app', v1, '--state', state)).code).toBe(0);
    const v2 = synth('v2', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroupPhoneNumbers(stack, 'N', { voiceConnectorGroupId: new CfnParameter(stack, 'Fresh').valueAsString, phoneNumbers: [p0] });
    });
    const result = await planJson('--app', v2, '--local-state', state);
    expect(result.exitCode).toBe(3);
    expect(changes(result)).toEqual([]);
    expect(result.stacks[0].unresolved.map((u) => u.token)).toEqual(['parameter Fresh']);
  });

  test('a number of a resource it cannot resolve is not called undeclared, though it sits on a declared group', async () => {
    const [p0] = account.pool;
    const p1 = account.pool.find((n) => shardOf(n) !== shardOf(p0))!;
    emu.control.bind(p0, 'VoiceConnectorGroupId', account.groups.a);
    const app = synth('half-resolved', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroupPhoneNumbers(stack, 'Unknown', { voiceConnectorGroupId: new CfnParameter(stack, 'GroupId').valueAsString, phoneNumbers: [p0] });
      new VoiceConnectorGroupPhoneNumbers(stack, 'Known', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p1] });
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(result.exitCode).toBe(3);
    expect(changes(result).sort()).toEqual([`bind ${p1}`, `undeclared ${account.foreignOnA}`]);
  });

  test('a new group whose name an older group already has: the Create would fail, so the plan fails', async () => {
    emu.control.createGroup({ name: 'legacy', createdAt: new Date(Date.now() - 48 * 3600_000) });
    const app = synth('legacy', (a) => {
      new VoiceConnectorGroup(telephony(a), 'Legacy', { name: 'legacy' }).addPhoneNumbers('N', [account.pool[0]]);
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(result.exitCode).toBe(1);
    expect(result.stacks[0].errors.join('\n')).toContain("a group named 'legacy' already exists");
  });

  test('each stack is planned in its own region: CloudFormation is asked in that region', async () => {
    const app = synth('regions', (a) => {
      new VoiceConnectorGroupPhoneNumbers(new Stack(a, 'East', { env: { region: 'us-east-1' } }), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
      new VoiceConnectorGroupPhoneNumbers(new Stack(a, 'West', { env: { region: 'us-west-2' } }), 'N', { voiceConnectorGroupId: account.groups.b, phoneNumbers: [account.pool[1]] });
    });
    // A CloudFormation that knows no stack, and notes the region each request was signed for.
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        const region = /Credential=[^/]+\/[^/]+\/([^/]+)\/cloudformation\//.exec(String(req.headers.authorization))?.[1];
        asked.push(`${new URLSearchParams(body).get('StackName')} ${region}`);
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end('<ErrorResponse><Error><Code>ValidationError</Code><Message>Stack with id x does not exist</Message></Error></ErrorResponse>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const run = await cliWith({ AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint }, 'plan', '--app', app, '--json');
      const result = JSON.parse(run.out) as PlanResult;
      expect(result.regions).toEqual(['us-east-1', 'us-west-2']);
      expect(result.stacks.map((st) => `${st.stackName} ${st.region} ${st.deployed}`)).toEqual(['East us-east-1 not deployed', 'West us-west-2 not deployed']);
      expect(asked.sort()).toEqual(['East us-east-1', 'West us-west-2']);
    } finally {
      server.close();
    }
  });

  test('a stack that no longer declares numbers is planned too: its deployed numbers are unbound', async () => {
    const [p0] = account.pool;
    const state = path.join(work, 'state.json');
    const v1 = synth('v1', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [p0] });
      telephony(a, 'Unrelated');
    });
    expect((await cli('local-deploy', '--app', v1, '--state', state)).code).toBe(0);
    const v2 = synth('v2', (a) => {
      telephony(a);
      telephony(a, 'Unrelated');
    });
    const result = await planJson('--app', v2, '--local-state', state);
    expect(result.stacks.map((st) => st.stackName)).toEqual(['Telephony']);
    expect(changes(result)).toEqual([`unbind ${p0}`]);
    expect((await cli('local-deploy', '--app', v2, '--state', state)).code).toBe(0);
    expect(emu.control.getBindings()[p0]).toBeNull();
  });

  test('an SSM parameter is read at deploy time: without --parameter it is unresolved, not its path', async () => {
    const app = synth('ssm', (a) => {
      const stack = telephony(a);
      const groupId = ssm.StringParameter.valueForStringParameter(stack, '/telephony/group-id');
      new VoiceConnectorGroupPhoneNumbers(stack, 'N', { voiceConnectorGroupId: groupId, phoneNumbers: [account.pool[0]] });
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(result.exitCode).toBe(3);
    expect(result.stacks[0].errors).toEqual([]);
    expect(result.stacks[0].unresolved[0].token).toMatch(/^SSM parameter \S+ \(\/telephony\/group-id\)$/);
    const parameter = result.stacks[0].unresolved[0].token.split(' ')[2];
    const given = await planJson('--app', app, '--local-state', path.join(work, 'none.json'), '--parameter', `${parameter}=${account.groups.b}`);
    expect(given.exitCode).toBe(0);
    expect(changes(given)).toEqual([`bind ${account.pool[0]}`]);
  });

  test('a group whose name the plan cannot resolve is not taken for a new group', async () => {
    const app = synth('account-name', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroup(stack, 'Named', { name: `${Aws.ACCOUNT_ID}-sales` }).addPhoneNumbers('N', [account.pool[0]]);
    });
    const result = await planJson('--app', app, '--local-state', path.join(work, 'none.json'));
    expect(result.exitCode).toBe(3);
    expect(changes(result)).toEqual([]);
    expect(result.stacks[0].unresolved.map((u) => u.token)).toEqual([expect.stringMatching(/^the group resource Named/)]);
  });
});

describe('local-deploy', () => {
  test('an update reuses the parameter values of the last deploy, as cdk deploy does', async () => {
    const [p0] = account.pool;
    const state = path.join(work, 'state.json');
    const app = synth('parameter', (a) => {
      const stack = telephony(a);
      new VoiceConnectorGroupPhoneNumbers(stack, 'N', { voiceConnectorGroupId: new CfnParameter(stack, 'GroupId').valueAsString, phoneNumbers: [p0] });
    });
    expect((await cli('local-deploy', '--app', app, '--state', state, '--parameter', `GroupId=${account.groups.b}`)).code).toBe(0);
    // Without the reuse, the Ref to GroupId has no value and the update rolls back.
    const again = await cli('local-deploy', '--app', app, '--state', state);
    expect(again.out).toContain('Telephony: deploy ended CREATE_COMPLETE (no events: nothing changed)');
    expect(again.code).toBe(0);
    expect(emu.control.getBindings()[p0]?.value).toBe(account.groups.b);
  });

  test('an endpoint that does not answer is bad input, found before anything is deployed or written', async () => {
    const app = synth('one', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
    });
    const state = path.join(work, 'state.json');
    await expect(cli('local-deploy', '--app', app, '--state', state, '--endpoint', 'http://127.0.0.1:9')).rejects.toThrow(
      /^cannot reach the Chime SDK Voice endpoint .*is the emulator running\?$/);
    expect(fs.existsSync(state)).toBe(false);
  });

  test("the handlers' log lines go to a file beside the state, not into the command's output", async () => {
    const app = synth('refused', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.onOtherGroup] });
    });
    const state = path.join(work, 'state', 'state.json');
    let printed = '';
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => { printed += chunk; return true; }) as typeof process.stdout.write;
    let run: Run;
    try {
      run = await cliWith({ LOG_LEVEL: 'INFO' }, 'local-deploy', '--app', app, '--state', state);
    } finally {
      process.stdout.write = write;
    }
    expect(run.code).toBe(1);
    expect(run.out).toContain('Telephony: deploy ended ROLLBACK_COMPLETE');
    expect(run.out).toContain(`the handlers' logs: ${path.relative(process.cwd(), path.join(work, 'state', 'handler-logs.jsonl'))}`);
    expect(printed).not.toContain('{"level"');
    const logged = fs.readFileSync(path.join(work, 'state', 'handler-logs.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { level: string });
    expect(logged.some((l) => l.level === 'ERROR')).toBe(true);
  });

  test('stacks deploy after the stacks they depend on, and are destroyed before them', async () => {
    const [p0] = account.pool;
    const state = path.join(work, 'state.json');
    // New is defined first, but depends on Old: Old must let go of the number before New takes it.
    const build = (oldNumbers: string[], newNumbers: string[]) => (a: App) => {
      const newer = telephony(a, 'New');
      const older = telephony(a, 'Old');
      newer.addDependency(older);
      if (oldNumbers.length) new VoiceConnectorGroupPhoneNumbers(older, 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: oldNumbers });
      if (newNumbers.length) new VoiceConnectorGroupPhoneNumbers(newer, 'N', { voiceConnectorGroupId: account.groups.b, phoneNumbers: newNumbers });
    };
    expect((await cli('local-deploy', '--app', synth('v1', build([p0], [])), '--state', state)).code).toBe(0);
    const moved = await cli('local-deploy', '--app', synth('v2', build([], [p0])), '--state', state);
    expect(moved.out.indexOf('Old: deploy ended')).toBeLessThan(moved.out.indexOf('New: deploy ended'));
    expect(moved.code).toBe(0);
    expect(emu.control.getBindings()[p0]?.value).toBe(account.groups.b);
    const destroyed = await cli('local-deploy', '--app', synth('v2', build([], [p0])), '--state', state, '--destroy');
    expect(destroyed.out.indexOf('New: destroy ended')).toBeLessThan(destroyed.out.indexOf('Old: destroy ended'));
    await expect(cli('local-deploy', '--app', synth('v3', build([], [p0])), '--state', state, '--order', 'random')).rejects.toThrow(
      "--order must be one of parallel, topological, reverse; got 'random'");
  });

  test('a state file that is not one is refused, by plan and by local-deploy', async () => {
    const app = synth('one', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
    });
    const bad = path.join(work, 'bad.json');
    fs.writeFileSync(bad, '{}');
    await expect(cli('plan', '--app', app, '--local-state', bad)).rejects.toThrow(`${bad} is not a local-deploy state file`);
    await expect(cli('local-deploy', '--app', app, '--state', bad)).rejects.toThrow(`${bad} is not a local-deploy state file`);
    fs.writeFileSync(bad, 'not json\n');
    await expect(cli('plan', '--app', app, '--local-state', bad)).rejects.toThrow(
      `${bad} is not a local-deploy state file (not JSON); give the file local-deploy wrote (by default .cdk-chime-vcg/local-state.json)`);
    await expect(cli('plan', '--app', app, '--local-state', work)).rejects.toThrow(`${work} is not a local-deploy state file (EISDIR`);
  });
});

describe('import', () => {
  test('prints code that declares what is bound, which then plans and deploys with no write', async () => {
    const [p0, p1] = account.pool;
    emu.control.bind(p0, 'VoiceConnectorGroupId', account.groups.b);
    emu.control.bind(p1, 'VoiceConnectorGroupId', account.groups.b);
    const imported = await cli('import', '--group', account.groups.b, '--construct-id', 'Inbound');
    expect(imported.code).toBe(0);
    expect(imported.out).toContain("import { VoiceConnectorGroupPhoneNumbers } from 'cdk-chime-voice-connector-groups';");
    expect(imported.out).toContain(`new VoiceConnectorGroupPhoneNumbers(this, "Inbound", {\n  voiceConnectorGroupId: "${account.groups.b}",\n` +
      `  phoneNumbers: [\n    "${p0}",\n    "${p1}",\n  ],\n});`);

    // The same declaration, built here, is adopted without a single write.
    const app = synth('imported', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'Inbound', { voiceConnectorGroupId: account.groups.b, phoneNumbers: [p0, p1] });
    });
    const state = path.join(work, 'state.json');
    const result = await planJson('--app', app, '--local-state', state);
    expect(changes(result).sort()).toEqual([`adopt ${p0}`, `adopt ${p1}`]);
    emu.control.clearCalls();
    expect((await cli('local-deploy', '--app', app, '--state', state)).code).toBe(0);
    expect(writes()).toBe(0);
  });

  test('--all covers every group (empty ones as a comment) with unique construct ids; python and a whole stack class', async () => {
    const secondA = emu.control.createGroup({ name: 'a' }).VoiceConnectorGroupId!;
    emu.control.bind(account.spare, 'VoiceConnectorGroupId', secondA);
    const all = await cli('import', '--all');
    expect(all.out).toContain('"APhoneNumbers"');
    expect(all.out).toContain('"APhoneNumbers2"');
    expect(all.out).toContain(`// (no phone numbers are bound to ${account.groups.b}: nothing to declare)`);
    expect(all.out).toContain(`"${account.onOtherGroup}"`);

    const py = await cli('import', '--group', account.groups.a, '--language', 'python', '--stack-class', 'Imported');
    expect(py.out).toContain('class Imported(Stack):');
    expect(py.out).toContain(`            voice_connector_group_id="${account.groups.a}",\n            phone_numbers=[\n                "${account.foreignOnA}",`);
  });
});

describe('bad input: one line naming the value and the fix', () => {
  test.each([
    [['plan', '--app', '/nonexistent/cdk.out'], /no cloud assembly at \/nonexistent\/cdk\.out .*run `npx cdk synth` first/],
    [['plan'], /--app is required/],
    [['import', '--group', 'no-such-group'], /Voice Connector group 'no-such-group' does not exist in us-east-1/],
    [['import'], /import needs --group <id> \(repeatable\) or --all/],
    [['import', '--all', '--language', 'java'], /--language must be typescript or python; got 'java'/],
    [['plan', '--app', 'x', '--bogus'], /unknown option --bogus/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['local-deploy', '--app', '/nonexistent'], /no cloud assembly at \/nonexistent/],
    [['emulator', '--stop'], /--stop needs the --port/],
    [['emulator', '--bind', '+12065550100'], /--bind binds numbers to the --group it creates/],
  ])('%j', async (argv, message) => {
    await expect(cli(...argv)).rejects.toThrow(UsageError);
    await expect(cli(...argv)).rejects.toThrow(message);
  });

  test('a stack that is not in the app names the ones that are', async () => {
    const app = synth('one', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]], removalPolicy: RemovalPolicy.RETAIN });
    });
    await expect(cli('plan', '--app', app, '--stack', 'Nope')).rejects.toThrow(`stack 'Nope' is not in ${app}; its stacks are: Telephony`);
  });

  test('an emulator port that is taken names the port and how to free it', async () => {
    const taken = await startEmulator();
    try {
      await expect(cli('emulator', '--port', String(taken.port))).rejects.toThrow(
        `port ${taken.port} is already in use on 127.0.0.1: stop what listens there (an emulator: npx cdk-chime-vcg emulator --stop --port ${taken.port})`);
    } finally {
      await taken.close();
    }
  });

  test('local-deploy never writes to AWS: it needs a test endpoint', async () => {
    const app = synth('one', (a) => {
      new VoiceConnectorGroupPhoneNumbers(telephony(a), 'N', { voiceConnectorGroupId: account.groups.a, phoneNumbers: [account.pool[0]] });
    });
    await expect(withEnv({ AWS_ENDPOINT_URL_CHIME_SDK_VOICE: undefined }, () => main(['local-deploy', '--app', app], () => undefined)))
      .rejects.toThrow('local-deploy writes bindings: point it at the emulator');
  });

  test('missing credentials and an unreachable endpoint read as one line each', () => {
    expect(describeAwsError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })))
      .toMatch(/^no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/);
    expect(describeAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })))
      .toMatch(/^cannot reach the Chime SDK Voice endpoint/);
    expect(describeAwsError(new Error('something else'))).toBeUndefined();
  });
});
