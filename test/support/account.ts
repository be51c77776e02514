/**
 * The account the e2e tests and the fuzzer seed into the local emulator, and the handler environment
 * that points the bundled handler at it. One definition, so both check the same foreign numbers.
 */
import { Emulator, EmulatorControl, SeedNumber } from '../../tools/emulator';

/** A distinct, valid E.164 number per index. */
export function phone(i: number): string {
  return `+1206555${String(1000 + i)}`;
}

/** The seeded account. Ids are deterministic: the emulator's id counter restarts on every reset. */
export interface SeededAccount {
  /** Groups by name: `a`, `b` (ours to declare on) and `other` (someone else's). */
  readonly groups: Readonly<Record<'a' | 'b' | 'other', string>>;
  /** Someone else's single voice connector; it holds `onVoiceConnector`. */
  readonly voiceConnector: string;
  /** Unbound numbers in the inventory that the stack declares from. */
  readonly pool: readonly string[];
  /** Bound to group `a` by hand before the app existed; never declared unless a test says so. */
  readonly foreignOnA: string;
  /** Bound to group `other`: declarable (fails without forceAssociate, is taken with it). */
  readonly onOtherGroup: string;
  /** Bound to the voice connector: declarable like onOtherGroup. */
  readonly onVoiceConnector: string;
  /** In the inventory, unbound, never declared. */
  readonly spare: string;
  /** Valid E.164 but not in the account's inventory: declaring it fails with NotFound. */
  readonly notInInventory: string;
}

/**
 * Seeds a freshly reset emulator: `poolSize` unbound numbers, the foreign numbers and groups of
 * `SeededAccount` (phone(100) to phone(103)), then `extra` numbers (unbound) for a caller's own cases.
 */
export function seedAccount(control: EmulatorControl, poolSize: number, extra: readonly SeedNumber[] = []): SeededAccount {
  const pool = Array.from({ length: poolSize }, (_, i) => phone(i));
  const [foreignOnA, onOtherGroup, onVoiceConnector, spare] = [100, 101, 102, 103].map(phone);
  control.seedNumbers([...pool, foreignOnA, onOtherGroup, onVoiceConnector, spare, ...extra]);
  const a = control.createGroup({ name: 'a' }).VoiceConnectorGroupId;
  const b = control.createGroup({ name: 'b' }).VoiceConnectorGroupId;
  const other = control.createGroup({ name: 'someone-elses' }).VoiceConnectorGroupId;
  const voiceConnector = control.createVoiceConnector({ name: 'someone-elses-vc' }).VoiceConnectorId;
  control.bind(foreignOnA, 'VoiceConnectorGroupId', a);
  control.bind(onOtherGroup, 'VoiceConnectorGroupId', other);
  control.bind(onVoiceConnector, 'VoiceConnectorId', voiceConnector);
  return { groups: { a, b, other }, voiceConnector, pool, foreignOnA, onOtherGroup, onVoiceConnector, spare, notInInventory: phone(999) };
}

/** What the handler needs to reach the emulator: its endpoint, a region and dummy credentials (it checks none). */
export function emulatorEnv(emu: Emulator): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local-dummy',
    AWS_SECRET_ACCESS_KEY: 'local-dummy',
    LOG_LEVEL: 'ERROR',
  };
}
