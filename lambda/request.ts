import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { E164_PATTERN, Prop, RECONCILE_EVERY_DEPLOY, SUPPORTED_SCHEMA_VERSIONS, normalizeE164 } from '../src/binding-properties';

/** What one binding resource declares, parsed and normalised. */
export interface BindingSpec {
  readonly groupId: string;
  /** Normalised (`+` form), de-duplicated, in declaration order. */
  readonly numbers: readonly string[];
  readonly forceAssociate: boolean;
  /** Numbers that sibling resources of the same stack declare for the same group. */
  readonly peerNumbers: ReadonlySet<string>;
  /** Every Create/Update reads the declared numbers and repairs drift, not only the diff. */
  readonly everyDeploy?: boolean;
  /** The group holds exactly the stack's declared numbers (this resource's and `peerNumbers`). */
  readonly exclusive?: boolean;
}

export type BindingRequest =
  | { readonly type: 'Create'; readonly logicalId: string; readonly desired: BindingSpec }
  | {
    readonly type: 'Update';
    readonly logicalId: string;
    readonly physicalId: string;
    readonly desired: BindingSpec;
    /** `undefined` when the old properties cannot be read: nothing of theirs is unbound then. */
    readonly previous: BindingSpec | undefined;
  }
  | { readonly type: 'Delete'; readonly logicalId: string; readonly physicalId: string; readonly previous: BindingSpec | undefined };

/** Bad properties: the deployment cannot proceed until the stack code is fixed. */
export class InvalidPropertiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPropertiesError';
  }
}

// ServiceToken and ServiceTimeout are CloudFormation's own custom-resource properties (CDK's
// CustomResource renders ServiceTimeout when `serviceTimeout` is set); they are not worth a log line.
const KNOWN_PROPERTIES = new Set<string>(['ServiceToken', 'ServiceTimeout', ...Object.values(Prop)]);

/**
 * Parses a CloudFormation custom-resource event into a typed request.
 *
 * Create and Update reject anything invalid, because binding from bad input could take or keep the wrong
 * numbers. Delete is lenient: it must never block a stack deletion, and properties that do not parse
 * cannot have bound anything, so it unbinds only what it can read.
 */
export function parseRequest(event: CloudFormationCustomResourceEvent): BindingRequest {
  const logicalId = event.LogicalResourceId;
  switch (event.RequestType) {
    case 'Create':
      return { type: 'Create', logicalId, desired: parseSpec(event.ResourceProperties, 'ResourceProperties') };
    case 'Update':
      return {
        type: 'Update',
        logicalId,
        physicalId: event.PhysicalResourceId,
        desired: parseSpec(event.ResourceProperties, 'ResourceProperties'),
        previous: tryParseSpec(event.OldResourceProperties),
      };
    case 'Delete':
      return { type: 'Delete', logicalId, physicalId: event.PhysicalResourceId, previous: tryParseSpec(event.ResourceProperties) };
    default:
      throw new InvalidPropertiesError(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}.`);
  }
}

/** Property names this handler does not know; logged, never fatal (a newer template may add some). */
export function unknownPropertyNames(properties: Record<string, unknown>): string[] {
  return Object.keys(properties).filter((key) => !KNOWN_PROPERTIES.has(key));
}

export function parseSpec(properties: Record<string, unknown> | undefined, where: string): BindingSpec {
  if (!properties || typeof properties !== 'object') {
    throw new InvalidPropertiesError(`${where} is missing.`);
  }
  const version = properties[Prop.SCHEMA_VERSION];
  if (version !== undefined && !SUPPORTED_SCHEMA_VERSIONS.includes(String(version))) {
    throw new InvalidPropertiesError(
      `${Prop.SCHEMA_VERSION} ${JSON.stringify(version)} is not supported by this handler (supported: ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}). ` +
      'Upgrade cdk-chime-voice-connector-groups to the release that rendered this template.',
    );
  }

  const groupId = properties[Prop.GROUP_ID];
  if (typeof groupId !== 'string' || groupId.trim() === '') {
    throw new InvalidPropertiesError(
      `${Prop.GROUP_ID} must be a non-blank string, got ${JSON.stringify(groupId)}. Pass the id of an existing voice connector group.`,
    );
  }

  const numbers = parseNumbers(properties[Prop.PHONE_NUMBERS], Prop.PHONE_NUMBERS, { requireOne: true });
  const peers = properties[Prop.PEER_PHONE_NUMBERS] === undefined
    ? []
    : parseNumbers(properties[Prop.PEER_PHONE_NUMBERS], Prop.PEER_PHONE_NUMBERS, { requireOne: false });

  const reconcile = properties[Prop.RECONCILE];
  if (reconcile !== undefined && reconcile !== RECONCILE_EVERY_DEPLOY && reconcile !== 'ON_CHANGE') {
    throw new InvalidPropertiesError(`${Prop.RECONCILE} must be "${RECONCILE_EVERY_DEPLOY}" or "ON_CHANGE", got ${JSON.stringify(reconcile)}.`);
  }
  const exclusive = parseBoolean(properties[Prop.EXCLUSIVE], Prop.EXCLUSIVE, false);

  return {
    groupId,
    numbers,
    forceAssociate: parseBoolean(properties[Prop.FORCE_ASSOCIATE], Prop.FORCE_ASSOCIATE, false),
    peerNumbers: new Set(peers),
    // Only present when set, so specs of on-change resources look exactly as they always did.
    ...(reconcile === RECONCILE_EVERY_DEPLOY ? { everyDeploy: true } : {}),
    ...(exclusive ? { exclusive: true } : {}),
  };
}

function tryParseSpec(properties: Record<string, unknown> | undefined): BindingSpec | undefined {
  try {
    return parseSpec(properties, 'OldResourceProperties');
  } catch {
    return lenientSpec(properties);
  }
}

/** Keeps whatever valid numbers a malformed property set still names, so they can be cleaned up. */
function lenientSpec(properties: Record<string, unknown> | undefined): BindingSpec | undefined {
  const groupId = properties?.[Prop.GROUP_ID];
  const raw = properties?.[Prop.PHONE_NUMBERS];
  if (typeof groupId !== 'string' || groupId.trim() === '' || !Array.isArray(raw)) {
    return undefined;
  }
  const numbers = [...new Set(raw.filter((n): n is string => typeof n === 'string' && E164_PATTERN.test(n)).map(normalizeE164))];
  return { groupId, numbers, forceAssociate: false, peerNumbers: new Set() };
}

function parseNumbers(value: unknown, name: string, opts: { requireOne: boolean }): string[] {
  if (!Array.isArray(value)) {
    throw new InvalidPropertiesError(`${name} must be a list of E.164 phone numbers, got ${JSON.stringify(value)}.`);
  }
  if (opts.requireOne && value.length === 0) {
    throw new InvalidPropertiesError(`${name} is empty. Declare at least one phone number, or remove the construct to unbind them all.`);
  }
  const seen = new Map<string, string>();
  for (const item of value) {
    if (typeof item !== 'string' || !E164_PATTERN.test(item)) {
      throw new InvalidPropertiesError(
        `${name} contains ${JSON.stringify(item)}, which is not an E.164 phone number (pattern ${E164_PATTERN.source}). ` +
        "Write it as '+' followed by country code and number, digits only, e.g. '+12065550100'.",
      );
    }
    const normalized = normalizeE164(item);
    const earlier = seen.get(normalized);
    if (earlier !== undefined) {
      throw new InvalidPropertiesError(
        `${name} lists ${normalized} twice (as ${JSON.stringify(earlier)} and ${JSON.stringify(item)}). Remove the duplicate.`,
      );
    }
    seen.set(normalized, item);
  }
  return [...seen.keys()];
}

function parseBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidPropertiesError(`${name} must be "true" or "false", got ${JSON.stringify(value)}.`);
}
