import {
  AccessDeniedException,
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  BadRequestException,
  ChimeSDKVoiceClient,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
  GetPhoneNumberCommand,
  ListPhoneNumbersCommand,
  NotFoundException,
  type PhoneNumber,
  type PhoneNumberError,
} from '@aws-sdk/client-chime-sdk-voice';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { Owner } from '../../lambda/phone-numbers/record';
import { normalizeE164 } from '../../src/binding-properties';

export type Operation = 'associate' | 'associateVoiceConnector' | 'disassociate';

/** A write the fake received, in order. */
export interface Write {
  readonly op: Operation;
  readonly target: string;
  readonly numbers: string[];
  readonly force?: boolean;
}

const meta = { $metadata: {} };

/**
 * A small in-memory model of the Chime SDK Voice number inventory behind `aws-sdk-client-mock`: numbers
 * have at most one owner, association honours ForceAssociate, per-number failures come back inside a
 * 200 as the real service does. Tests script failures per number and read the end state.
 */
export class FakeVoice {
  public readonly mock: AwsClientStub<ChimeSDKVoiceClient>;
  public readonly client = new ChimeSDKVoiceClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  public readonly writes: Write[] = [];
  public readonly owners = new Map<string, Owner>();
  public readonly inventory = new Set<string>();
  public readonly groups = new Set<string>();
  /** Lists longer than this are rejected whole with BadRequestException. */
  public maxList = Number.POSITIVE_INFINITY;
  /** Per-number error codes to answer, consumed one per call, keyed by `${op}:${number}`. */
  private readonly scripted = new Map<string, string[]>();
  private getPhoneNumberError: Error | undefined;

  constructor(groups: readonly string[]) {
    groups.forEach((g) => this.groups.add(g));
    this.mock = mockClient(ChimeSDKVoiceClient);
    this.mock.on(AssociatePhoneNumbersWithVoiceConnectorGroupCommand).callsFake(async (input) =>
      this.associate('associate', { kind: 'group', id: input.VoiceConnectorGroupId }, input.E164PhoneNumbers, input.ForceAssociate));
    this.mock.on(AssociatePhoneNumbersWithVoiceConnectorCommand).callsFake(async (input) =>
      this.associate('associateVoiceConnector', { kind: 'voiceConnector', id: input.VoiceConnectorId }, input.E164PhoneNumbers, input.ForceAssociate));
    this.mock.on(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand).callsFake(async (input) =>
      this.disassociate(input.VoiceConnectorGroupId, input.E164PhoneNumbers));
    this.mock.on(GetPhoneNumberCommand).callsFake(async (input) => this.getPhoneNumber(input.PhoneNumberId));
    this.mock.on(ListPhoneNumbersCommand).callsFake(async (input) => this.list(input.FilterValue, input.MaxResults, input.NextToken));
  }

  /** Adds numbers to the inventory, optionally bound to an owner. */
  public own(numbers: readonly string[], owner?: Owner): this {
    for (const n of numbers) {
      this.inventory.add(n);
      if (owner) this.owners.set(n, owner); else this.owners.delete(n);
    }
    return this;
  }

  /**
   * The next calls of `op` for `number` answer these per-number codes, one per call. A code written
   * `unnamed:<Code>` comes back without a PhoneNumberId (the change not made), `unnamed-done:<Code>` the
   * same but with the change made, and `other:<Code>` names a number that was not sent: what the model
   * allows, since every field of a PhoneNumberError is optional.
   */
  public script(op: Operation, number: string, ...codes: string[]): this {
    this.scripted.set(`${op}:${number}`, [...(this.scripted.get(`${op}:${number}`) ?? []), ...codes]);
    return this;
  }

  public failGetPhoneNumber(error: Error): this {
    this.getPhoneNumberError = error;
    return this;
  }

  public boundTo(groupId: string): string[] {
    return [...this.owners].filter(([, o]) => o.kind === 'group' && o.id === groupId).map(([n]) => n).sort();
  }

  public snapshot(): Record<string, string> {
    return Object.fromEntries([...this.owners].sort(([a], [b]) => a.localeCompare(b)).map(([n, o]) => [n, `${o.kind}:${o.id}`]));
  }

  public restore(): void {
    this.mock.restore();
  }

  private async associate(op: Operation, target: Owner, raw: string[] = [], force = false) {
    this.writes.push({ op, target: target.id, numbers: [...raw], force });
    if (raw.length > this.maxList) {
      throw new BadRequestException({ ...meta, message: `at most ${this.maxList} numbers` });
    }
    if (target.kind === 'group' && !this.groups.has(target.id)) {
      throw new NotFoundException({ ...meta, message: `group ${target.id} not found` });
    }
    const errors: PhoneNumberError[] = [];
    for (const number of raw.map(normalizeE164)) {
      const code = this.next(op, number)
        ?? (!this.inventory.has(number) ? 'NotFound' : undefined)
        ?? (this.heldElsewhere(number, target) && !force ? 'PhoneNumberAssociationsExist' : undefined);
      const [kind, anonymous] = code?.includes(':') ? code.split(':') : [undefined, code];
      if (code && kind === 'unnamed-done') this.owners.set(number, target);
      if (code) {
        errors.push({
          ...(kind === undefined ? { PhoneNumberId: number } : kind === 'other' ? { PhoneNumberId: '+19999999999' } : {}),
          ErrorCode: anonymous as PhoneNumberError['ErrorCode'],
          ErrorMessage: `${anonymous} for ${number}`,
        });
      } else {
        this.owners.set(number, target);
      }
    }
    return { PhoneNumberErrors: errors };
  }

  private async disassociate(groupId: string | undefined, raw: string[] = []) {
    this.writes.push({ op: 'disassociate', target: groupId!, numbers: [...raw] });
    if (raw.length > this.maxList) {
      throw new BadRequestException({ ...meta, message: `at most ${this.maxList} numbers` });
    }
    if (!this.groups.has(groupId!)) {
      throw new NotFoundException({ ...meta, message: `group ${groupId} not found` });
    }
    const errors: PhoneNumberError[] = [];
    for (const number of raw.map(normalizeE164)) {
      const owner = this.owners.get(number);
      const code = this.next('disassociate', number) ?? (owner?.kind === 'group' && owner.id === groupId ? undefined : 'NotFound');
      if (code) {
        errors.push({ PhoneNumberId: number, ErrorCode: code as PhoneNumberError['ErrorCode'], ErrorMessage: `${code} for ${number}` });
      } else {
        this.owners.delete(number);
      }
    }
    return { PhoneNumberErrors: errors };
  }

  private async getPhoneNumber(id: string | undefined) {
    if (this.getPhoneNumberError) throw this.getPhoneNumberError;
    const number = normalizeE164(id ?? '');
    if (!this.inventory.has(number)) {
      throw new NotFoundException({ ...meta, message: `${number} not found` });
    }
    return { PhoneNumber: this.describe(number) };
  }

  private async list(groupId: string | undefined, maxResults = 100, nextToken?: string) {
    if (!this.groups.has(groupId!)) {
      throw new NotFoundException({ ...meta, message: `group ${groupId} not found` });
    }
    const all = this.boundTo(groupId!);
    const start = nextToken ? Number(nextToken) : 0;
    const end = start + maxResults;
    return { PhoneNumbers: all.slice(start, end).map((n) => this.describe(n)), NextToken: end < all.length ? String(end) : undefined };
  }

  private describe(number: string): PhoneNumber {
    const owner = this.owners.get(number);
    return {
      PhoneNumberId: number,
      E164PhoneNumber: number,
      Associations: owner ? [{ Name: owner.kind === 'group' ? 'VoiceConnectorGroupId' : 'VoiceConnectorId', Value: owner.id }] : [],
    };
  }

  private heldElsewhere(number: string, target: Owner): boolean {
    const owner = this.owners.get(number);
    return owner !== undefined && !(owner.kind === target.kind && owner.id === target.id);
  }

  private next(op: Operation, number: string): string | undefined {
    const queue = this.scripted.get(`${op}:${number}`);
    return queue?.shift();
  }
}

export const accessDenied = () => new AccessDeniedException({ ...meta, message: 'not allowed' });
