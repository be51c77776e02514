/**
 * Time safety: a deployment too large for one handler invocation goes on through the Provider
 * framework's completion checks, each invocation stopping new work in time to answer, and a failure
 * in a later invocation undoes what earlier ones did. Driven through the local deploy driver, the real
 * bundled handler and the emulator made slow on purpose.
 */
import { App, Stack } from 'aws-cdk-lib';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { shardOf } from '../../src/binding-properties';
import { startEmulator, type Emulator } from '../../tools/emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, synthApp } from '../../tools/local-deploy';

/** `count` numbers of one shard: one binding resource does all the work, as a large shard would. */
const numbers = (count: number) => Array.from({ length: 60_000 }, (_, i) => `+1312${String(5_000_000 + i)}`).filter((n) => shardOf(n) === 9).slice(0, count);

let emu: Emulator;
let group: string;

beforeAll(async () => {
  emu = await startEmulator({ seed: 7 });
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  emu.control.reset();
  group = emu.control.createGroup({ name: 'slow' }).VoiceConnectorGroupId!;
});

function stackWith(declared: string[]) {
  const app = new App();
  const stack = new Stack(app, 'Slow');
  new VoiceConnectorGroupPhoneNumbers(stack, 'Numbers', { voiceConnectorGroupId: group, phoneNumbers: declared });
  return synthApp(app)[0];
}

let drivers: LocalDeployDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.map((d) => d.close()));
  drivers = [];
});

function driver(): LocalDeployDriver {
  const created = new LocalDeployDriver({
    handlers: LIBRARY_HANDLERS,
    // 8 s per invocation: 5 s are kept for the answer and a third of the rest for undo, so each
    // invocation starts new calls for about 2 s.
    timeoutMs: 8_000,
    env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', LOG_LEVEL: 'ERROR' },
  });
  drivers.push(created);
  return created;
}

test('a create that needs several invocations finishes through the completion checks', async () => {
  const declared = numbers(600);
  emu.control.seedNumbers(declared);
  emu.control.setFaults({ latencyMs: 250 });

  const result = await driver().deploy(stackWith(declared));

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('CREATE_COMPLETE');
  expect(emu.control.groupNumbers(group).sort()).toEqual([...declared].sort());
  // Each completion check reads back how far the work got: a second listing means the work was carried over.
  const reads = emu.calls.filter((c) => c.operation === 'ListPhoneNumbers').length;
  expect(reads).toBeGreaterThan(6);
  const writes = emu.calls.filter((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup');
  expect(writes.reduce((sum, c) => sum + (c.numbers?.length ?? 0), 0)).toBe(declared.length);
}, 120_000);

test('a failure in a later invocation undoes what the earlier ones bound, and leaves numbers bound before alone', async () => {
  const declared = numbers(600);
  // Not in the account: the association that reaches it fails for good, in a completion check.
  const missing = [...declared].sort()[500];
  const preBound = declared[0];
  emu.control.seedNumbers(declared.filter((n) => n !== missing));
  emu.control.bind(preBound, 'VoiceConnectorGroupId', group);
  emu.control.setFaults({ latencyMs: 250 });

  const result = await driver().deploy(stackWith(declared));

  expect(result.status).toBe('ROLLBACK_COMPLETE');
  expect(result.failure).toContain(`${missing}: NotFound`);
  const completionFailure = result.events.find((e) => e.requestType === 'Create' && !e.ok);
  expect(completionFailure?.error).toContain(missing);
  // What the failing check could not undo in its own time, CloudFormation's rollback Delete removes.
  expect(emu.control.groupNumbers(group).filter((n) => n !== preBound)).toEqual([]);
  const reads = emu.calls.filter((c) => c.operation === 'ListPhoneNumbers').length;
  expect(reads).toBeGreaterThan(6);
}, 120_000);
