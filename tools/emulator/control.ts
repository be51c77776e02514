/**
 * The test-facing control surface: seed and inspect the account, drive faults, read the call log.
 * The same methods back the in-process API (`emulator.control`) and the `/_emulator/...` HTTP
 * endpoints, and every result is plain JSON data, so both paths return identical shapes.
 */
import { FaultConfig, FaultInjector, FaultOptions, OperationName } from './faults';
import {
  AssociationName, Binding, Inventory, PhoneNumberView, ProductType, VoiceConnectorGroupView, VoiceConnectorView,
} from './state';

/** One API request as the emulator answered it. Control requests are not logged. */
export interface CallRecord {
  /** Operation name, or 'UnknownOperation' for a request no route matched. */
  readonly operation: OperationName | 'UnknownOperation';
  readonly method: string;
  readonly path: string;
  readonly groupId?: string;
  readonly voiceConnectorId?: string;
  /** `E164PhoneNumbers` exactly as sent (associate/disassociate), or the number a GetPhoneNumber asked for. */
  readonly numbers?: readonly string[];
  /** HTTP status answered. */
  readonly status: number;
  /** Exception name when the request failed as a whole. */
  readonly errorType?: string;
  /** Length of `PhoneNumberErrors` in a 200 answer. */
  readonly perNumberErrors: number;
  /** Epoch milliseconds at which the answer was sent. */
  readonly timestamp: number;
}

export interface SeedNumber {
  readonly number: string;
  readonly productType?: ProductType;
}

export class EmulatorControl {
  constructor(
    private readonly inventory: Inventory,
    private readonly faults: FaultInjector,
    private readonly calls: CallRecord[],
    private readonly initialSeed: number,
  ) {}

  /** Adds numbers to the account inventory (product type defaults to 'VoiceConnector'). */
  public seedNumbers(numbers: ReadonlyArray<string | SeedNumber>): PhoneNumberView[] {
    return numbers.map((n) => (typeof n === 'string' ? this.inventory.seedNumber(n) : this.inventory.seedNumber(n.number, n.productType)));
  }

  public createVoiceConnector(input: { name?: string; id?: string } = {}): VoiceConnectorView {
    return this.inventory.createVoiceConnector({ name: input.name ?? 'emulated-voice-connector', id: input.id });
  }

  /** Creates a group out of band; `createdAt` back-dates it (a group made long before the stack). */
  public createGroup(input: { name: string; id?: string; voiceConnectorIds?: readonly string[]; createdAt?: Date }): VoiceConnectorGroupView {
    const items = (input.voiceConnectorIds ?? []).map((VoiceConnectorId, i) => ({ VoiceConnectorId, Priority: i + 1 }));
    return this.inventory.createGroup({ name: input.name, id: input.id, items, createdAt: input.createdAt });
  }

  /** Removes a group out of band (unbinding its numbers), e.g. to simulate "the group is gone". */
  public deleteGroup(id: string): void {
    this.inventory.removeGroup(id);
  }

  /** Takes a number out of the account's inventory out of band (released, or ported away). */
  public removeNumber(number: string): void {
    this.inventory.removeNumber(number);
  }

  /** Binds a number directly, with no API rules applied (a human in the console). */
  public bind(number: string, name: AssociationName, value: string): void {
    this.inventory.bind(number, name, value);
  }

  public unbind(number: string): void {
    this.inventory.unbind(number);
  }

  public getBinding(number: string): Binding | null {
    return this.inventory.binding(number);
  }

  /** Every number in the inventory mapped to its association, or null when unbound. */
  public getBindings(): Record<string, Binding | null> {
    return this.inventory.bindings();
  }

  public groupNumbers(groupId: string): string[] {
    return this.inventory.numbersBoundTo('VoiceConnectorGroupId', groupId);
  }

  public voiceConnectorNumbers(voiceConnectorId: string): string[] {
    return this.inventory.numbersBoundTo('VoiceConnectorId', voiceConnectorId);
  }

  public snapshot(): ReturnType<Inventory['snapshot']> {
    return this.inventory.snapshot();
  }

  public getFaults(): FaultConfig {
    return this.faults.current;
  }

  /** Merges into the active faults; takes effect from the next request. */
  public setFaults(options: FaultOptions): FaultConfig {
    return this.faults.set(options);
  }

  public clearFaults(): void {
    this.faults.clear();
  }

  /** Restarts the fault PRNG streams from `seed`. */
  public reseed(seed: number): void {
    this.faults.reseed(seed);
  }

  /** Back to a freshly started emulator: empty account, no faults, the start seed, empty call log. */
  public reset(): void {
    this.inventory.reset();
    this.faults.clear();
    this.faults.reseed(this.initialSeed);
    this.calls.length = 0;
  }

  public getCalls(filter: { operation?: CallRecord['operation'] } = {}): CallRecord[] {
    return this.calls.filter((c) => filter.operation === undefined || c.operation === filter.operation);
  }

  public clearCalls(): void {
    this.calls.length = 0;
  }
}
