/**
 * Fault injection: throttling, server errors, latency, per-number throttling, list-length limits,
 * stricter association rules and forced errors. Every random decision comes from a seeded PRNG, so
 * a test that sends the same requests under the same seed sees the same faults.
 */
import { ApiError, AssociationPolicy, EXCEPTIONS, ExceptionName } from './state';

/** Operations the emulator serves over the Chime SDK Voice wire protocol. */
export const OPERATIONS = [
  'AssociatePhoneNumbersWithVoiceConnectorGroup',
  'DisassociatePhoneNumbersFromVoiceConnectorGroup',
  'AssociatePhoneNumbersWithVoiceConnector',
  'DisassociatePhoneNumbersFromVoiceConnector',
  'GetPhoneNumber',
  'ListPhoneNumbers',
  'CreateVoiceConnectorGroup',
  'GetVoiceConnectorGroup',
  'UpdateVoiceConnectorGroup',
  'DeleteVoiceConnectorGroup',
  'ListVoiceConnectorGroups',
  'CreateVoiceConnector',
  'GetVoiceConnector',
] as const;
export type OperationName = typeof OPERATIONS[number];

/** An error every matching request gets, e.g. to exercise a handler's AccessDenied path. */
export interface ForcedError {
  readonly exception: ExceptionName;
  readonly message?: string;
  /** How many requests fail before the fault clears itself; absent = until cleared. */
  readonly times?: number;
  /** How many matching requests are answered normally before the fault starts; absent = none. */
  readonly after?: number;
}

export interface FaultConfig {
  /** Requests per second accepted (sliding one-second window); more get 429 ThrottledClientException. Absent = unlimited. */
  readonly tpsLimit?: number;
  /** Fraction (0..1) of numbers in an associate/disassociate request answered with per-number ErrorCode 'Throttled'. */
  readonly perNumberThrottleRate: number;
  /** Fraction (0..1) of requests answered 500 ServiceFailureException or 503 ServiceUnavailableException (half each), nothing applied. */
  readonly serverErrorRate: number;
  /** Delay added before every API answer. */
  readonly latencyMs: number;
  /** Longest `E164PhoneNumbers` list accepted; longer is a 400 BadRequestException. Absent = unlimited. */
  readonly maxListLength?: number;
  /** Associate of a number already on the same target answers per-number 'PhoneNumberAssociationsExist' (unless ForceAssociate). */
  readonly strictReassociate: boolean;
  /** Disassociate of a number not bound to the target answers per-number 'NotFound'. */
  readonly strictDisassociate: boolean;
  /**
   * ListPhoneNumbers' next-token is a position in the current result rather than the last key served,
   * so numbers that leave earlier pages between two calls push later numbers out of view. AWS does not
   * document which kind its tokens are; a client must be correct with either.
   */
  readonly offsetPaging: boolean;
  /**
   * DeleteVoiceConnectorGroup is refused (ConflictException) while the group still lists voice connectors:
   * the API reference asks for its VoiceConnectorItems to be removed first. On by default.
   */
  readonly strictGroupDelete: boolean;
  /**
   * Fraction (0..1) of per-number errors answered without their PhoneNumberId: every field of a
   * PhoneNumberError is optional in the service's model, so a client must not assume it names its number.
   */
  readonly unnamedErrorRate: number;
  /** Errors forced on specific operations; key '*' matches every operation. */
  readonly forcedErrors: Readonly<Partial<Record<OperationName | '*', ForcedError>>>;
}

/** A partial update of the faults. `null` clears an optional limit or a forced error (JSON has no `undefined`). */
export interface FaultOptions extends Partial<Omit<FaultConfig, 'tpsLimit' | 'maxListLength' | 'forcedErrors'>> {
  readonly tpsLimit?: number | null;
  readonly maxListLength?: number | null;
  readonly forcedErrors?: Readonly<Partial<Record<OperationName | '*', ForcedError | null>>>;
}

const NO_FAULTS: FaultConfig = {
  perNumberThrottleRate: 0,
  serverErrorRate: 0,
  latencyMs: 0,
  strictReassociate: false,
  strictDisassociate: false,
  offsetPaging: false,
  strictGroupDelete: true,
  unnamedErrorRate: 0,
  forcedErrors: {},
};

/**
 * mulberry32: a tiny 32-bit PRNG with good enough statistics for fault draws. Bit operations are the
 * algorithm itself, hence the lint exception.
 */
/* eslint-disable no-bitwise */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

export class FaultInjector {
  private config: FaultConfig = NO_FAULTS;
  // Separate streams per kind of fault, so turning one fault on does not shift the draws of another.
  private serverErrorDraws!: () => number;
  private throttleDraws!: () => number;
  /** Epoch ms of requests admitted within the last second. */
  private admitted: number[] = [];

  constructor(seed: number, options: FaultOptions = {}, private readonly now: () => number = Date.now) {
    this.reseed(seed);
    this.set(options);
  }

  public get current(): FaultConfig {
    return this.config;
  }

  /** Merges `options` into the active faults (validated first, so a bad value changes nothing). */
  public set(options: FaultOptions): FaultConfig {
    // Options may come from JSON over HTTP: a misspelt fault must fail loudly, not be ignored.
    const unknown = Object.keys(options).filter((k) => !(k in NO_FAULTS) && k !== 'tpsLimit' && k !== 'maxListLength');
    if (unknown.length > 0) throw new Error(`Unknown fault option(s): ${unknown.join(', ')}`);
    const forcedErrors: Partial<Record<OperationName | '*', ForcedError>> = { ...this.config.forcedErrors };
    for (const [key, forced] of Object.entries(options.forcedErrors ?? {})) {
      if (forced === null) delete forcedErrors[key as OperationName | '*'];
      else forcedErrors[key as OperationName | '*'] = forced;
    }
    const next: FaultConfig = {
      ...this.config,
      ...options,
      tpsLimit: options.tpsLimit === null ? undefined : options.tpsLimit ?? this.config.tpsLimit,
      maxListLength: options.maxListLength === null ? undefined : options.maxListLength ?? this.config.maxListLength,
      forcedErrors,
    };
    validate(next);
    this.config = next;
    return next;
  }

  public clear(): void {
    this.config = NO_FAULTS;
    this.admitted = [];
  }

  /** Restarts every random stream from `seed`. */
  public reseed(seed: number): void {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer; got ${seed}`);
    this.serverErrorDraws = mulberry32(seed);
    this.throttleDraws = mulberry32(seed + 0x9e3779b9);
  }

  /**
   * Request-level faults, in the order a real front end applies them: rate limit, then the forced
   * (authorization-like) error, then a random server failure. Returns the error to answer with, if any.
   */
  public admit(operation: OperationName): ApiError | undefined {
    const { tpsLimit } = this.config;
    if (tpsLimit !== undefined) {
      const now = this.now();
      this.admitted = this.admitted.filter((t) => now - t < 1000);
      if (this.admitted.length >= tpsLimit) {
        return new ApiError('ThrottledClientException', `Rate exceeded: more than ${tpsLimit} requests per second`);
      }
      this.admitted.push(now);
    }
    const forced = this.takeForcedError(operation);
    if (forced) return forced;
    if (this.config.serverErrorRate > 0 && this.serverErrorDraws() < this.config.serverErrorRate) {
      return this.serverErrorDraws() < 0.5
        ? new ApiError('ServiceFailureException', 'Injected service failure')
        : new ApiError('ServiceUnavailableException', 'Injected service unavailability');
    }
    return undefined;
  }

  /** The per-request policy handed to the inventory for associate/disassociate. */
  public associationPolicy(): AssociationPolicy {
    const { perNumberThrottleRate, maxListLength, strictReassociate, strictDisassociate } = this.config;
    return {
      maxListLength,
      strictReassociate,
      strictDisassociate,
      throttle: () => perNumberThrottleRate > 0 && this.throttleDraws() < perNumberThrottleRate,
    };
  }

  /** Whether this per-number error loses its PhoneNumberId (drawn from the same seeded stream as throttling). */
  public unnamed(): boolean {
    return this.config.unnamedErrorRate > 0 && this.throttleDraws() < this.config.unnamedErrorRate;
  }

  private takeForcedError(operation: OperationName): ApiError | undefined {
    const key = this.config.forcedErrors[operation] ? operation : this.config.forcedErrors['*'] ? '*' : undefined;
    if (key === undefined) return undefined;
    const forced = this.config.forcedErrors[key]!;
    if (forced.after !== undefined && forced.after > 0) {
      this.config = { ...this.config, forcedErrors: { ...this.config.forcedErrors, [key]: { ...forced, after: forced.after - 1 } } };
      return undefined;
    }
    if (forced.times !== undefined) {
      const forcedErrors = { ...this.config.forcedErrors };
      if (forced.times <= 1) delete forcedErrors[key];
      else forcedErrors[key] = { ...forced, times: forced.times - 1 };
      this.config = { ...this.config, forcedErrors };
    }
    return new ApiError(forced.exception, forced.message ?? `Injected ${forced.exception} for ${operation}`);
  }
}

function validate(config: FaultConfig): void {
  const fraction = (name: string, value: number) => {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error(`${name} must be a number from 0 to 1; got ${value}`);
  };
  const positiveInteger = (name: string, value: number | undefined) => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`${name} must be a positive integer; got ${value}`);
  };
  fraction('perNumberThrottleRate', config.perNumberThrottleRate);
  fraction('serverErrorRate', config.serverErrorRate);
  fraction('unnamedErrorRate', config.unnamedErrorRate);
  if (typeof config.strictGroupDelete !== 'boolean') throw new Error('strictGroupDelete must be a boolean');
  positiveInteger('tpsLimit', config.tpsLimit);
  positiveInteger('maxListLength', config.maxListLength);
  if (typeof config.latencyMs !== 'number' || !(config.latencyMs >= 0)) throw new Error(`latencyMs must be a number >= 0; got ${config.latencyMs}`);
  if (typeof config.strictReassociate !== 'boolean') throw new Error('strictReassociate must be a boolean');
  if (typeof config.strictDisassociate !== 'boolean') throw new Error('strictDisassociate must be a boolean');
  if (typeof config.offsetPaging !== 'boolean') throw new Error('offsetPaging must be a boolean');
  for (const [key, forced] of Object.entries(config.forcedErrors)) {
    if (key !== '*' && !(OPERATIONS as readonly string[]).includes(key)) throw new Error(`forcedErrors: unknown operation ${key}`);
    if (!forced || !(forced.exception in EXCEPTIONS)) throw new Error(`forcedErrors.${key}: unknown exception ${forced?.exception}`);
    positiveInteger(`forcedErrors.${key}.times`, forced.times);
    if (forced.after !== undefined && (!Number.isInteger(forced.after) || forced.after < 0)) {
      throw new Error(`forcedErrors.${key}.after must be an integer >= 0; got ${forced.after}`);
    }
  }
}
