/**
 * Time safety: a deployment too large for one handler invocation goes on through the Provider
 * framework's completion checks, each invocation stopping new work in time to answer, and a failure
 * in a later invocation undoes what earlier ones did. Driven through the local deploy driver, the real
 * bundled handler and the emulator made slow on purpose.
 */
import { App, Stack } from 'aws-cdk-lib';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { startEmulator, type Emulator } from '../emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, synthApp } from '../local-deploy';

const numbers = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `+1206555${String(from + i).padStart(4, '0')}`);

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

function driver(): LocalDeployDriver {
  return new LocalDeployDriver({
    handlers: LIBRARY_HANDLERS,
    // 6 s per invocation: 3 s are kept for the answer and a third of the rest for undo, so each
    // invocation starts new calls for about 2 s.
    timeoutMs: 6_000,
    env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', LOG_LEVEL: 'ERROR' },
  });
}

test('a create that needs several invocations finishes through the completion checks', async () => {
  const declared = numbers(500);
  emu.control.seedNumbers(declared);
  emu.control.setFaults({ latencyMs: 250 });

  const result = await driver().deploy(stackWith(declared));

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('CREATE_COMPLETE');
  expect(emu.control.groupNumbers(group).sort()).toEqual(declared);
  // Each invocation reads the group before it writes: a second read means the work was carried over.
  const reads = emu.calls.filter((c) => c.operation === 'ListPhoneNumbers').length;
  expect(reads).toBeGreaterThan(1);
  const writes = emu.calls.filter((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup');
  expect(writes.reduce((sum, c) => sum + (c.numbers?.length ?? 0), 0)).toBe(declared.length);
}, 120_000);

test('a failure in a later invocation undoes what the earlier ones bound, and leaves numbers bound before alone', async () => {
  const declared = numbers(500);
  // Not in the account: the association that reaches it fails for good, in a completion check.
  const missing = declared[300];
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
  expect(reads).toBeGreaterThan(1);
}, 120_000);
