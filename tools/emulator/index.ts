/**
 * Local Amazon Chime SDK Voice emulator for tests, benchmarks and demos: a real HTTP server that the
 * unmodified `@aws-sdk/client-chime-sdk-voice` client talks to (via `endpoint`, or the
 * `AWS_ENDPOINT_URL_CHIME_SDK_VOICE` environment variable).
 *
 * ```ts
 * const emu = await startEmulator({ seed: 1 });
 * emu.control.seedNumbers(['+12065550100']);
 * const group = emu.control.createGroup({ name: 'g' });
 * const client = new ChimeSDKVoiceClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * ...
 * await emu.close();
 * ```
 */
import { CallRecord, EmulatorControl } from './control';
import { FaultInjector, FaultOptions } from './faults';
import { EmulatorServer } from './server';
import { Inventory } from './state';

export { EmulatorControl } from './control';
export type { CallRecord, SeedNumber } from './control';
export { OPERATIONS, mulberry32 } from './faults';
export type { FaultConfig, FaultOptions, ForcedError, OperationName } from './faults';
export { CONTROL_PREFIX } from './server';
export { E164_PATTERN } from './state';
export type {
  AssociationName, Binding, ExceptionName, PhoneNumberError, PhoneNumberView, ProductType, VoiceConnectorGroupView, VoiceConnectorView,
} from './state';

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Only loopback: the emulator has no authentication and must not be reachable from elsewhere. */
  readonly host?: '127.0.0.1';
  /** Seed for every random fault decision (default 1). */
  readonly seed?: number;
  /** Faults active from the first request. */
  readonly faults?: FaultOptions;
  /** Region in ARNs and voice connectors (default 'us-east-1'). */
  readonly region?: string;
  /** Called after answering `POST /_emulator/shutdown`; without it, that endpoint does not exist. */
  readonly onShutdown?: () => void;
}

export interface Emulator {
  /** Base URL, e.g. 'http://127.0.0.1:49152': pass as the SDK's `endpoint`. */
  readonly url: string;
  readonly port: number;
  readonly control: EmulatorControl;
  /** Every API call answered so far (a copy; `control.clearCalls()` empties the log). */
  readonly calls: readonly CallRecord[];
  close(): Promise<void>;
}

/** A fixed fake account id, so ARNs are stable across runs. */
export const EMULATOR_ACCOUNT_ID = '123456789012';

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed = options.seed ?? 1;
  const host = options.host ?? '127.0.0.1';
  const inventory = new Inventory({ region: options.region ?? 'us-east-1', accountId: EMULATOR_ACCOUNT_ID });
  const faults = new FaultInjector(seed, options.faults);
  const calls: CallRecord[] = [];
  const control = new EmulatorControl(inventory, faults, calls, seed);
  const server = new EmulatorServer({ inventory, faults, calls, control, onShutdown: options.onShutdown });
  const port = await server.listen(options.port ?? 0, host);
  return {
    url: `http://${host}:${port}`,
    port,
    control,
    get calls() {
      return [...calls];
    },
    close: () => server.close(),
  };
}
