import {
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  type ChimeSDKVoiceClient,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
  type PhoneNumberError,
} from '@aws-sdk/client-chime-sdk-voice';
import { numbers } from './fixtures';
import { Executor } from '../../lambda/execute';
import { createLogger } from '../../lambda/log';
import type { Step } from '../../lambda/plan';

interface Pending {
  readonly op: 'associate' | 'disassociate';
  readonly groupId: string;
  readonly numbers: string[];
  readonly answer: (errors?: PhoneNumberError[]) => void;
}

/** A client whose calls stay in flight until the test answers them, so overlap can be observed. */
class GatedClient {
  public readonly pending: Pending[] = [];
  public readonly started: Pending[] = [];
  public maxInFlight = 0;

  public asClient(): ChimeSDKVoiceClient {
    return { send: (command: unknown) => this.send(command) } as unknown as ChimeSDKVoiceClient;
  }

  /** Answers every call in flight, and the calls those release, until none is left. */
  public async drain(errors: (call: Pending) => PhoneNumberError[] = () => []): Promise<void> {
    await settle();
    while (this.pending.length > 0) {
      const call = this.pending.shift()!;
      call.answer(errors(call));
      await settle();
    }
  }

  private send(command: unknown): Promise<{ PhoneNumberErrors: PhoneNumberError[] }> {
    const input = (command as { input: { VoiceConnectorGroupId: string; E164PhoneNumbers: string[] } }).input;
    const op = command instanceof AssociatePhoneNumbersWithVoiceConnectorGroupCommand ? 'associate'
      : command instanceof DisassociatePhoneNumbersFromVoiceConnectorGroupCommand ? 'disassociate' : undefined;
    if (!op) throw new Error('unexpected command');
    return new Promise((resolve) => {
      const call: Pending = {
        op,
        groupId: input.VoiceConnectorGroupId,
        numbers: input.E164PhoneNumbers,
        answer: (errors = []) => resolve({ PhoneNumberErrors: errors }),
      };
      this.pending.push(call);
      this.started.push(call);
      this.maxInFlight = Math.max(this.maxInFlight, this.pending.length);
    });
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function executor(client: GatedClient, concurrency: number): Executor {
  return new Executor(client.asClient(), {
    batchSize: 10,
    concurrency,
    numberAttempts: 3,
    baseDelayMs: 1,
    maxDelayMs: 1,
    deadline: () => Date.now() + 60_000,
    sleep: async () => undefined,
    random: () => 0,
    log: createLogger('ERROR', () => undefined),
  });
}

const G = 'vcg-a';
const OTHER = 'vcg-b';

describe('Executor: steps on disjoint numbers', () => {
  test('disassociations start only after every association succeeded, and both are journaled', async () => {
    const [added, removed] = [numbers(1, 0), numbers(1, 100)];
    const gated = new GatedClient();
    const steps: Step[] = [
      { kind: 'associate', groupId: G, numbers: added, force: 'never' },
      { kind: 'disassociate', groupId: G, numbers: removed },
    ];
    const running = executor(gated, 4).run(steps);
    await settle();
    expect(gated.pending.map((c) => c.op)).toEqual(['associate']);

    await gated.drain();
    const { journal, failures } = await running;
    expect(failures).toEqual([]);
    expect(gated.started.map((c) => c.op)).toEqual(['associate', 'disassociate']);
    expect(journal).toEqual([
      { kind: 'associated', groupId: G, number: added[0], prior: undefined },
      { kind: 'disassociated', groupId: G, number: removed[0] },
    ]);
  });

  test('association steps on disjoint numbers are in flight together', async () => {
    const gated = new GatedClient();
    const steps: Step[] = [
      { kind: 'associate', groupId: G, numbers: numbers(1, 0), force: 'ours', from: { kind: 'group', id: OTHER } },
      { kind: 'associate', groupId: G, numbers: numbers(1, 100), force: 'never' },
    ];
    const running = executor(gated, 4).run(steps);
    await settle();
    expect(gated.pending.map((c) => c.op)).toEqual(['associate', 'associate']);
    await gated.drain();
    await running;
  });

  test('steps running together share the concurrency: never more calls in flight than it allows', async () => {
    const gated = new GatedClient();
    const steps: Step[] = [
      { kind: 'associate', groupId: G, numbers: numbers(30, 0), force: 'ours', from: { kind: 'group', id: OTHER } },
      { kind: 'associate', groupId: G, numbers: numbers(30, 100), force: 'never' },
    ];
    const running = executor(gated, 2).run(steps);
    await gated.drain();
    await running;
    expect(gated.started).toHaveLength(6);
    expect(gated.maxInFlight).toBe(2);
  });

  test('a step that shares a number with an earlier one waits for it', async () => {
    const [moved] = numbers(1, 0);
    const gated = new GatedClient();
    const steps: Step[] = [
      { kind: 'associate', groupId: G, numbers: [moved], force: 'ours', from: { kind: 'group', id: OTHER } },
      { kind: 'disassociate', groupId: OTHER, numbers: [moved] },
    ];
    const running = executor(gated, 4).run(steps);
    await settle();
    expect(gated.pending.map((c) => c.op)).toEqual(['associate']);

    await gated.drain();
    await running;
    expect(gated.started.map((c) => c.op)).toEqual(['associate', 'disassociate']);
  });

  test('a number failing for good in an association: no disassociation starts, so no number is let go', async () => {
    const gated = new GatedClient();
    const steps: Step[] = [
      { kind: 'associate', groupId: G, numbers: numbers(10, 0), force: 'never' },
      { kind: 'disassociate', groupId: G, numbers: numbers(30, 100) },
    ];
    const running = executor(gated, 2).run(steps);
    const [bad] = numbers(1, 0);
    await gated.drain((call) => (call.numbers.includes(bad) ? [{ PhoneNumberId: bad, ErrorCode: 'Validation', ErrorMessage: 'no' }] : []));
    const { journal, failures } = await running;

    expect(failures.map((f) => [f.number, f.code])).toEqual([[bad, 'Validation']]);
    expect(gated.started.map((c) => c.op)).toEqual(['associate']);
    expect(journal.filter((e) => e.kind === 'disassociated')).toHaveLength(0);
    expect(journal.filter((e) => e.kind === 'associated')).toHaveLength(9);
  });

  test('a number failing for good in one association step stops the batches another has not started', async () => {
    const gated = new GatedClient();
    const steps: Step[] = [
      { kind: 'associate', groupId: G, numbers: numbers(10, 0), force: 'never' },
      { kind: 'associate', groupId: G, numbers: numbers(30, 100), force: 'ours', from: { kind: 'group', id: OTHER } },
    ];
    const running = executor(gated, 2).run(steps);
    const [bad] = numbers(1, 0);
    await gated.drain((call) => (call.numbers.includes(bad) ? [{ PhoneNumberId: bad, ErrorCode: 'Validation', ErrorMessage: 'no' }] : []));
    const { failures } = await running;
    expect(failures.map((f) => [f.number, f.code])).toEqual([[bad, 'Validation']]);
    // The first batch of each step started together; the other two batches of the second never did.
    expect(gated.started).toHaveLength(2);
  });
});
