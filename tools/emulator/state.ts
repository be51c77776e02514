/**
 * The emulated account: phone-number inventory, voice connectors, voice connector groups, and the
 * association semantics of Amazon Chime SDK Voice. Pure in-memory logic with no HTTP and no
 * randomness: faults are decided elsewhere and handed in through `AssociationPolicy`, so every rule
 * here can be reasoned about (and tested) on its own.
 *
 * A number holds at most one association. Associate/disassociate answer, per number (HTTP 200):
 * - 'NotFound'                      the number is not in the account's inventory;
 * - 'BadRequest'                    (associate) its product type is not VoiceConnector;
 * - 'PhoneNumberAssociationsExist'  (associate) bound elsewhere and ForceAssociate not true
 *                                   (ForceAssociate moves it); with strictReassociate, also when
 *                                   already on this target;
 * - 'NotFound'                      (disassociate, strictDisassociate only) not bound to this target;
 *                                   by default that is a silent success, and a number bound
 *                                   elsewhere is never touched;
 * - 'Throttled'                     injected by perNumberThrottleRate; nothing changed for it.
 * Whole-request failures (nothing changed): any invalid E.164 entry or a list over maxListLength is
 * 400 BadRequestException; an unknown group or voice connector is 404 NotFoundException.
 */

/** `E164PhoneNumber` pattern from the Chime SDK Voice API model. */
export const E164_PATTERN = /^\+?[1-9]\d{1,14}$/;

/** Page size bounds for the List* operations; outside them the request is a 400. */
export const MAX_RESULTS_LIMIT = 100;

export type ProductType = 'VoiceConnector' | 'SipMediaApplicationDialIn' | 'BusinessCalling';
export const PRODUCT_TYPES: readonly ProductType[] = ['VoiceConnector', 'SipMediaApplicationDialIn', 'BusinessCalling'];

export type AssociationName = 'VoiceConnectorId' | 'VoiceConnectorGroupId' | 'SipRuleId';
export const ASSOCIATION_NAMES: readonly AssociationName[] = ['VoiceConnectorId', 'VoiceConnectorGroupId', 'SipRuleId'];

/**
 * The modeled exceptions, with the HTTP status and `Code` body member the service sends for each
 * (statuses from the `httpError` traits in the SDK's schemas).
 */
export const EXCEPTIONS = {
  BadRequestException: { status: 400, code: 'BadRequest' },
  ResourceLimitExceededException: { status: 400, code: 'ResourceLimitExceeded' },
  UnauthorizedClientException: { status: 401, code: 'Unauthorized' },
  AccessDeniedException: { status: 403, code: 'AccessDenied' },
  ForbiddenException: { status: 403, code: 'Forbidden' },
  NotFoundException: { status: 404, code: 'NotFound' },
  ConflictException: { status: 409, code: 'Conflict' },
  GoneException: { status: 410, code: 'Gone' },
  UnprocessableEntityException: { status: 422, code: 'Unprocessable' },
  ThrottledClientException: { status: 429, code: 'Throttled' },
  ServiceFailureException: { status: 500, code: 'ServiceFailure' },
  ServiceUnavailableException: { status: 503, code: 'ServiceUnavailable' },
} as const;
export type ExceptionName = keyof typeof EXCEPTIONS;

/** A whole-request failure; the server turns it into the REST-JSON error encoding. */
export class ApiError extends Error {
  public readonly status: number;
  public readonly code: string;

  constructor(public readonly exception: ExceptionName, message: string) {
    super(message);
    this.status = EXCEPTIONS[exception].status;
    this.code = EXCEPTIONS[exception].code;
  }
}

/** Per-number failure, exactly as it travels in `PhoneNumberErrors`. */
export interface PhoneNumberError {
  readonly PhoneNumberId: string;
  readonly ErrorCode: string;
  readonly ErrorMessage: string;
}

export interface Binding {
  readonly name: AssociationName;
  readonly value: string;
}

interface Association extends Binding {
  readonly associatedAt: Date;
}

interface PhoneNumberRecord {
  readonly e164: string;
  productType: ProductType;
  association: Association | null;
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface VoiceConnectorItem {
  readonly VoiceConnectorId: string;
  readonly Priority: number;
}

interface VoiceConnectorRecord {
  readonly id: string;
  readonly name: string;
  readonly awsRegion: string;
  readonly requireEncryption: boolean;
  readonly createdAt: Date;
}

interface GroupRecord {
  readonly id: string;
  name: string;
  items: VoiceConnectorItem[];
  callDistributionType?: string;
  readonly createdAt: Date;
  updatedAt: Date;
}

/** Wire shapes (field names as in the SDK's output schemas). Timestamps are ISO 8601 (`date-time`). */
export interface PhoneNumberView {
  readonly PhoneNumberId: string;
  readonly E164PhoneNumber: string;
  readonly Country?: string;
  readonly Type: 'Local' | 'TollFree';
  readonly ProductType: ProductType;
  readonly Status: 'Assigned' | 'Unassigned';
  readonly Associations: ReadonlyArray<{ Name: AssociationName; Value: string; AssociatedTimestamp: string }>;
  readonly CreatedTimestamp: string;
  readonly UpdatedTimestamp: string;
}

export interface VoiceConnectorView {
  readonly VoiceConnectorId: string;
  readonly Name: string;
  readonly AwsRegion: string;
  readonly RequireEncryption: boolean;
  readonly OutboundHostName: string;
  readonly VoiceConnectorArn: string;
  readonly CreatedTimestamp: string;
  readonly UpdatedTimestamp: string;
}

export interface VoiceConnectorGroupView {
  readonly VoiceConnectorGroupId: string;
  readonly Name: string;
  readonly VoiceConnectorItems: readonly VoiceConnectorItem[];
  readonly CallDistributionType?: string;
  readonly VoiceConnectorGroupArn: string;
  readonly CreatedTimestamp: string;
  readonly UpdatedTimestamp: string;
}

/** What the fault layer decides for one associate/disassociate request. */
export interface AssociationPolicy {
  /** Longest accepted `E164PhoneNumbers` list; longer is a 400. */
  readonly maxListLength?: number;
  /** Called once per distinct number, in request order: true means answer 'Throttled' and change nothing. */
  readonly throttle: () => boolean;
  /** Associate (without ForceAssociate) of a number already on the same target fails instead of being a no-op. */
  readonly strictReassociate: boolean;
  /** Disassociate of a number not bound to the target fails instead of being a silent no-op. */
  readonly strictDisassociate: boolean;
}

/** The two kinds of target a number can be associated with through the API. */
export type AssociationTarget = { readonly name: 'VoiceConnectorGroupId' | 'VoiceConnectorId'; readonly id: string };

export interface InventoryOptions {
  readonly region: string;
  readonly accountId: string;
  readonly now?: () => Date;
}

/** Strips the optional '+' difference so the same number is always the same key. */
export function normalizeE164(raw: string): string {
  return raw.startsWith('+') ? raw : `+${raw}`;
}

// North American toll-free prefixes, so seeded numbers report a plausible `Type`.
const TOLL_FREE = /^\+1(800|833|844|855|866|877|888)/;

export class Inventory {
  private readonly numbers = new Map<string, PhoneNumberRecord>();
  private readonly voiceConnectors = new Map<string, VoiceConnectorRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  // Ids come from a counter, not randomness: the same test creates the same ids every run.
  private idCounter = 0;
  private readonly now: () => Date;

  constructor(private readonly options: InventoryOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Forget everything (numbers, connectors, groups, id counter). */
  public reset(): void {
    this.numbers.clear();
    this.voiceConnectors.clear();
    this.groups.clear();
    this.idCounter = 0;
  }

  // ---- inventory management (control API) ----

  /** Adds a number to the account, or changes the product type of one already there (keeping its association). */
  public seedNumber(raw: string, productType: ProductType = 'VoiceConnector'): PhoneNumberView {
    const e164 = this.parseNumbers([raw])[0];
    if (!PRODUCT_TYPES.includes(productType)) {
      throw new ApiError('BadRequestException', `Unknown product type ${productType}; expected one of ${PRODUCT_TYPES.join(', ')}`);
    }
    const existing = this.numbers.get(e164);
    if (existing) {
      existing.productType = productType;
      existing.updatedAt = this.now();
      return this.phoneNumberView(existing);
    }
    const at = this.now();
    const record: PhoneNumberRecord = { e164, productType, association: null, createdAt: at, updatedAt: at };
    this.numbers.set(e164, record);
    return this.phoneNumberView(record);
  }

  /** Binds a number directly, bypassing every API rule (a human in the console, or drift). */
  public bind(raw: string, name: AssociationName, value: string): void {
    if (!ASSOCIATION_NAMES.includes(name)) {
      throw new ApiError('BadRequestException', `Unknown association name ${name}; expected one of ${ASSOCIATION_NAMES.join(', ')}`);
    }
    if (name === 'VoiceConnectorGroupId') this.requireGroup(value);
    if (name === 'VoiceConnectorId') this.requireVoiceConnector(value);
    this.setAssociation(this.requireNumber(raw), { name, value });
  }

  /** Removes a number's association directly, whatever it is. */
  public unbind(raw: string): void {
    this.setAssociation(this.requireNumber(raw), null);
  }

  public binding(raw: string): Binding | null {
    const association = this.requireNumber(raw).association;
    return association ? { name: association.name, value: association.value } : null;
  }

  public bindings(): Record<string, Binding | null> {
    const result: Record<string, Binding | null> = {};
    for (const record of this.sortedNumbers()) {
      result[record.e164] = record.association ? { name: record.association.name, value: record.association.value } : null;
    }
    return result;
  }

  /** Numbers bound to the given target, sorted. */
  public numbersBoundTo(name: AssociationName, value: string): string[] {
    return this.sortedNumbers().filter((r) => r.association?.name === name && r.association.value === value).map((r) => r.e164);
  }

  /** Deletes a group out of band, unbinding its numbers first (the API itself refuses while numbers remain). */
  public removeGroup(id: string): void {
    this.requireGroup(id);
    for (const record of this.numbers.values()) {
      if (record.association?.name === 'VoiceConnectorGroupId' && record.association.value === id) {
        this.setAssociation(record, null);
      }
    }
    this.groups.delete(id);
  }

  /** Takes a number out of the inventory (released or ported away), unbinding it first. */
  public removeNumber(e164: string): void {
    const record = this.numbers.get(e164);
    if (!record) throw new Error(`${e164} is not in the inventory`);
    if (record.association) this.setAssociation(record, null);
    this.numbers.delete(e164);
  }

  public snapshot(): { numbers: PhoneNumberView[]; voiceConnectors: VoiceConnectorView[]; groups: VoiceConnectorGroupView[] } {
    return {
      numbers: this.sortedNumbers().map((r) => this.phoneNumberView(r)),
      voiceConnectors: [...this.voiceConnectors.values()].map((r) => this.voiceConnectorView(r)),
      groups: [...this.groups.values()].map((r) => this.groupView(r)),
    };
  }

  // ---- voice connectors ----

  public createVoiceConnector(input: { name: string; id?: string; awsRegion?: string; requireEncryption?: boolean }): VoiceConnectorView {
    requireName(input.name);
    const id = input.id ?? `vc${this.nextId().padStart(20, '0')}`;
    if (this.voiceConnectors.has(id)) throw new ApiError('ConflictException', `Voice connector ${id} already exists`);
    const record: VoiceConnectorRecord = {
      id,
      name: input.name,
      awsRegion: input.awsRegion ?? this.options.region,
      requireEncryption: input.requireEncryption ?? true,
      createdAt: this.now(),
    };
    this.voiceConnectors.set(id, record);
    return this.voiceConnectorView(record);
  }

  public getVoiceConnector(id: string): VoiceConnectorView {
    return this.voiceConnectorView(this.requireVoiceConnector(id));
  }

  // ---- voice connector groups ----

  public createGroup(
    input: { name: string; id?: string; items?: unknown; callDistributionType?: string; createdAt?: Date },
  ): VoiceConnectorGroupView {
    requireName(input.name);
    const items = this.parseItems(input.items ?? []);
    const id = input.id ?? `00000000-0000-4000-8000-${this.nextId().padStart(12, '0')}`;
    if (this.groups.has(id)) throw new ApiError('ConflictException', `Voice connector group ${id} already exists`);
    const at = input.createdAt ?? this.now();
    const record: GroupRecord = { id, name: input.name, items, callDistributionType: input.callDistributionType, createdAt: at, updatedAt: at };
    this.groups.set(id, record);
    return this.groupView(record);
  }

  public getGroup(id: string): VoiceConnectorGroupView {
    return this.groupView(this.requireGroup(id));
  }

  public updateGroup(id: string, input: { name: unknown; items: unknown; callDistributionType?: string }): VoiceConnectorGroupView {
    const record = this.requireGroup(id);
    requireName(input.name);
    if (input.items === undefined) throw new ApiError('BadRequestException', 'VoiceConnectorItems is required');
    record.items = this.parseItems(input.items);
    record.name = input.name;
    if (input.callDistributionType !== undefined) record.callDistributionType = input.callDistributionType;
    record.updatedAt = this.now();
    return this.groupView(record);
  }

  /**
   * API deletion: refused while any number is still associated with the group, as the service does, and
   * (`strict`, as the API reference asks) while the group still lists voice connectors.
   */
  public deleteGroup(id: string, strict = true): void {
    const record = this.requireGroup(id);
    if (strict && record.items.length > 0) {
      throw new ApiError('ConflictException', `Voice connector group ${id} still lists ${record.items.length} voice connector(s); remove its VoiceConnectorItems first`);
    }
    const bound = this.numbersBoundTo('VoiceConnectorGroupId', id);
    if (bound.length > 0) {
      throw new ApiError('ConflictException', `Voice connector group ${id} still has ${bound.length} phone number(s) associated; disassociate them first`);
    }
    this.groups.delete(id);
  }

  public listGroups(maxResults: number | undefined, nextToken: string | undefined): { groups: VoiceConnectorGroupView[]; nextToken?: string } {
    const page = paginate([...this.groups.keys()].sort(), maxResults, nextToken);
    return { groups: page.items.map((id) => this.groupView(this.groups.get(id)!)), nextToken: page.nextToken };
  }

  // ---- phone numbers ----

  public getPhoneNumber(id: string): PhoneNumberView {
    const record = this.numbers.get(normalizeE164(id));
    if (!record) throw new ApiError('NotFoundException', `Phone number ${id} not found in this account`);
    return this.phoneNumberView(record);
  }

  public listPhoneNumbers(query: {
    status?: string;
    productType?: string;
    filterName?: string;
    filterValue?: string;
    maxResults?: number;
    nextToken?: string;
  }, paging: Paging = 'key'): { numbers: PhoneNumberView[]; nextToken?: string } {
    if (query.productType !== undefined && !PRODUCT_TYPES.includes(query.productType as ProductType)) {
      throw new ApiError('BadRequestException', `Invalid product-type ${query.productType}`);
    }
    if ((query.filterName === undefined) !== (query.filterValue === undefined)) {
      throw new ApiError('BadRequestException', 'filter-name and filter-value must be given together');
    }
    if (query.filterName !== undefined && !ASSOCIATION_NAMES.includes(query.filterName as AssociationName)) {
      throw new ApiError('BadRequestException', `Invalid filter-name ${query.filterName}; expected one of ${ASSOCIATION_NAMES.join(', ')}`);
    }
    const matching = this.sortedNumbers().filter((r) =>
      (query.status === undefined || statusOf(r) === query.status)
      && (query.productType === undefined || r.productType === query.productType)
      && (query.filterName === undefined || (r.association?.name === query.filterName && r.association.value === query.filterValue)),
    );
    const page = paginate(matching.map((r) => r.e164), query.maxResults, query.nextToken, paging);
    return { numbers: page.items.map((e164) => this.phoneNumberView(this.numbers.get(e164)!)), nextToken: page.nextToken };
  }

  /**
   * Associate numbers with a group or a voice connector. Whole-request problems (bad list, unknown
   * target) throw before anything changes; per-number problems come back as `PhoneNumberError`s and
   * the other numbers are still processed.
   */
  public associate(target: AssociationTarget, rawNumbers: unknown, forceAssociate: unknown, policy: AssociationPolicy): PhoneNumberError[] {
    const numbers = this.parseRequestList(rawNumbers, policy);
    if (forceAssociate !== undefined && typeof forceAssociate !== 'boolean') {
      throw new ApiError('BadRequestException', 'ForceAssociate must be a boolean');
    }
    this.requireTarget(target);
    const errors: PhoneNumberError[] = [];
    for (const e164 of numbers) {
      const error = this.associateOne(target, e164, forceAssociate === true, policy);
      if (error) errors.push(error);
    }
    return errors;
  }

  /** Disassociate numbers from a group or a voice connector; a number bound elsewhere is never touched. */
  public disassociate(target: AssociationTarget, rawNumbers: unknown, policy: AssociationPolicy): PhoneNumberError[] {
    const numbers = this.parseRequestList(rawNumbers, policy);
    this.requireTarget(target);
    const errors: PhoneNumberError[] = [];
    for (const e164 of numbers) {
      const error = this.disassociateOne(target, e164, policy);
      if (error) errors.push(error);
    }
    return errors;
  }

  private associateOne(target: AssociationTarget, e164: string, force: boolean, policy: AssociationPolicy): PhoneNumberError | undefined {
    // The throttle draw comes first and happens for every number, so the draw sequence depends only on
    // the requests sent, not on the inventory: that keeps runs reproducible under a seed.
    if (policy.throttle()) return perNumber(e164, 'Throttled', `Rate exceeded for ${e164}; not associated, retry later`);
    const record = this.numbers.get(e164);
    if (!record) return perNumber(e164, 'NotFound', `Phone number ${e164} is not in this account's inventory`);
    if (record.productType !== 'VoiceConnector') {
      return perNumber(e164, 'BadRequest', `Phone number ${e164} has product type ${record.productType}; only VoiceConnector numbers can be associated with ${describe(target)}`);
    }
    const current = record.association;
    if (current && current.name === target.name && current.value === target.id) {
      if (policy.strictReassociate && !force) {
        return perNumber(e164, 'PhoneNumberAssociationsExist', `Phone number ${e164} is already associated with ${describe(target)}`);
      }
      return undefined;
    }
    if (current && !force) {
      return perNumber(e164, 'PhoneNumberAssociationsExist',
        `Phone number ${e164} is associated with ${current.name} ${current.value}; disassociate it there or set ForceAssociate to move it`);
    }
    this.setAssociation(record, { name: target.name, value: target.id });
    return undefined;
  }

  private disassociateOne(target: AssociationTarget, e164: string, policy: AssociationPolicy): PhoneNumberError | undefined {
    if (policy.throttle()) return perNumber(e164, 'Throttled', `Rate exceeded for ${e164}; not disassociated, retry later`);
    const record = this.numbers.get(e164);
    if (!record) return perNumber(e164, 'NotFound', `Phone number ${e164} is not in this account's inventory`);
    const current = record.association;
    if (current?.name === target.name && current.value === target.id) {
      this.setAssociation(record, null);
      return undefined;
    }
    // Not bound here (unbound, or bound elsewhere, which must never be touched): by default a silent
    // success, so repeating a disassociate is harmless; strict mode reports it.
    if (policy.strictDisassociate) {
      return perNumber(e164, 'NotFound', `Phone number ${e164} is not associated with ${describe(target)}`);
    }
    return undefined;
  }

  /** Validates the whole `E164PhoneNumbers` list up front: one bad entry rejects the request with nothing changed. */
  private parseRequestList(raw: unknown, policy: AssociationPolicy): string[] {
    if (!Array.isArray(raw)) throw new ApiError('BadRequestException', 'E164PhoneNumbers is required and must be a list');
    if (policy.maxListLength !== undefined && raw.length > policy.maxListLength) {
      throw new ApiError('BadRequestException', `E164PhoneNumbers has ${raw.length} entries; at most ${policy.maxListLength} are allowed per request`);
    }
    return this.parseNumbers(raw);
  }

  /** Normalises to '+' form and removes duplicates, preserving request order. */
  private parseNumbers(raw: readonly unknown[]): string[] {
    const invalid = raw.filter((n) => typeof n !== 'string' || !E164_PATTERN.test(n));
    if (invalid.length > 0) {
      throw new ApiError('BadRequestException', `Invalid E.164 phone number(s): ${invalid.map((n) => JSON.stringify(n)).join(', ')}`);
    }
    return [...new Set((raw as string[]).map(normalizeE164))];
  }

  private parseItems(raw: unknown): VoiceConnectorItem[] {
    if (!Array.isArray(raw)) throw new ApiError('BadRequestException', 'VoiceConnectorItems must be a list');
    return raw.map((item: { VoiceConnectorId?: unknown; Priority?: unknown }) => {
      if (typeof item?.VoiceConnectorId !== 'string' || typeof item.Priority !== 'number' || item.Priority < 1 || item.Priority > 99) {
        throw new ApiError('BadRequestException', 'Each VoiceConnectorItem needs a VoiceConnectorId and a Priority from 1 to 99');
      }
      this.requireVoiceConnector(item.VoiceConnectorId);
      return { VoiceConnectorId: item.VoiceConnectorId, Priority: item.Priority };
    });
  }

  private setAssociation(record: PhoneNumberRecord, binding: Binding | null): void {
    const at = this.now();
    record.association = binding ? { ...binding, associatedAt: at } : null;
    record.updatedAt = at;
  }

  private requireTarget(target: AssociationTarget): void {
    if (target.name === 'VoiceConnectorGroupId') this.requireGroup(target.id);
    else this.requireVoiceConnector(target.id);
  }

  private requireNumber(raw: string): PhoneNumberRecord {
    const record = this.numbers.get(normalizeE164(raw));
    if (!record) throw new ApiError('NotFoundException', `Phone number ${raw} not found in this account`);
    return record;
  }

  private requireGroup(id: string): GroupRecord {
    const record = this.groups.get(id);
    if (!record) throw new ApiError('NotFoundException', `Voice connector group ${id} not found`);
    return record;
  }

  private requireVoiceConnector(id: string): VoiceConnectorRecord {
    const record = this.voiceConnectors.get(id);
    if (!record) throw new ApiError('NotFoundException', `Voice connector ${id} not found`);
    return record;
  }

  private nextId(): string {
    this.idCounter += 1;
    return String(this.idCounter);
  }

  private sortedNumbers(): PhoneNumberRecord[] {
    return [...this.numbers.values()].sort((a, b) => (a.e164 < b.e164 ? -1 : a.e164 > b.e164 ? 1 : 0));
  }

  private phoneNumberView(r: PhoneNumberRecord): PhoneNumberView {
    return {
      PhoneNumberId: r.e164,
      E164PhoneNumber: r.e164,
      Country: r.e164.startsWith('+1') ? 'US' : undefined,
      Type: TOLL_FREE.test(r.e164) ? 'TollFree' : 'Local',
      ProductType: r.productType,
      Status: statusOf(r),
      Associations: r.association
        ? [{ Name: r.association.name, Value: r.association.value, AssociatedTimestamp: r.association.associatedAt.toISOString() }]
        : [],
      CreatedTimestamp: r.createdAt.toISOString(),
      UpdatedTimestamp: r.updatedAt.toISOString(),
    };
  }

  private voiceConnectorView(r: VoiceConnectorRecord): VoiceConnectorView {
    return {
      VoiceConnectorId: r.id,
      Name: r.name,
      AwsRegion: r.awsRegion,
      RequireEncryption: r.requireEncryption,
      OutboundHostName: `${r.id}.voiceconnector.chime.aws`,
      VoiceConnectorArn: `arn:aws:chime:${r.awsRegion}:${this.options.accountId}:vc/${r.id}`,
      CreatedTimestamp: r.createdAt.toISOString(),
      UpdatedTimestamp: r.createdAt.toISOString(),
    };
  }

  private groupView(r: GroupRecord): VoiceConnectorGroupView {
    return {
      VoiceConnectorGroupId: r.id,
      Name: r.name,
      VoiceConnectorItems: r.items.map((i) => ({ ...i })),
      CallDistributionType: r.callDistributionType,
      VoiceConnectorGroupArn: `arn:aws:chime:${this.options.region}:${this.options.accountId}:vcg/${r.id}`,
      CreatedTimestamp: r.createdAt.toISOString(),
      UpdatedTimestamp: r.updatedAt.toISOString(),
    };
  }
}

function statusOf(r: PhoneNumberRecord): 'Assigned' | 'Unassigned' {
  return r.association ? 'Assigned' : 'Unassigned';
}

function perNumber(e164: string, code: string, message: string): PhoneNumberError {
  return { PhoneNumberId: e164, ErrorCode: code, ErrorMessage: message };
}

function describe(target: AssociationTarget): string {
  return target.name === 'VoiceConnectorGroupId' ? `voice connector group ${target.id}` : `voice connector ${target.id}`;
}

function requireName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw new ApiError('BadRequestException', 'Name is required (1 to 256 characters)');
  }
}

/**
 * How a next-token says where the next page starts: `key`, the last key served (a page boundary survives
 * inserts and deletes between calls); `offset`, a position in the list as it is at the next call (keys
 * removed before that position push later keys past it, unseen).
 */
export type Paging = 'key' | 'offset';

/** Paging over a sorted key list. Tokens are base64url so they look opaque, as AWS's do. */
function paginate(keys: string[], maxResults: number | undefined, nextToken: string | undefined, paging: Paging = 'key'): { items: string[]; nextToken?: string } {
  if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS_LIMIT)) {
    throw new ApiError('BadRequestException', `max-results must be an integer from 1 to ${MAX_RESULTS_LIMIT}; got ${maxResults}`);
  }
  let start = 0;
  if (nextToken !== undefined) {
    const after = Buffer.from(nextToken, 'base64url').toString('utf8');
    if (after.length === 0 || Buffer.from(after, 'utf8').toString('base64url') !== nextToken) {
      throw new ApiError('BadRequestException', 'Invalid next-token');
    }
    if (paging === 'offset') {
      if (!/^@\d+$/.test(after)) throw new ApiError('BadRequestException', 'Invalid next-token');
      start = Math.min(Number(after.slice(1)), keys.length);
    } else {
      start = keys.findIndex((k) => k > after);
      if (start === -1) start = keys.length;
    }
  }
  const size = maxResults ?? MAX_RESULTS_LIMIT;
  const items = keys.slice(start, start + size);
  const more = start + size < keys.length;
  const token = paging === 'offset' ? `@${start + size}` : items[items.length - 1];
  return { items, nextToken: more ? Buffer.from(token, 'utf8').toString('base64url') : undefined };
}
