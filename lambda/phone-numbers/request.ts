import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  E164_PATTERN, EntryProp, Prop, RECONCILE_EVERY_DEPLOY, SCHEMA_VERSION, SHARD_COUNT, SUPPORTED_SCHEMA_VERSIONS, normalizeE164, shardOf,
} from '../../src/binding-properties';

/** How the stack declares one number: its group and the options of the construct that declares it. */
export interface Binding {
  readonly number: string;
  readonly groupId: string;
  readonly force: boolean;
  readonly retain: boolean;
  readonly everyDeploy: boolean;
}

/** What one shard's binding resource declares, parsed and normalised. */
export interface ShardSpec {
  readonly shard: number;
  /** Number -> its binding, for every number of the shard. */
  readonly bindings: ReadonlyMap<string, Binding>;
  /** The stack's exclusive groups (every shard knows all of them). */
  readonly exclusiveGroups: ReadonlySet<string>;
}

export type ShardRequest =
  | { readonly type: 'Create'; readonly logicalId: string; readonly desired: ShardSpec }
  | {
    readonly type: 'Update';
    readonly logicalId: string;
    readonly physicalId: string;
    readonly desired: ShardSpec;
    /** `undefined` when the old properties cannot be read: nothing of theirs is unbound then. */
    readonly previous: ShardSpec | undefined;
  }
  | { readonly type: 'Delete'; readonly logicalId: string; readonly physicalId: string; readonly previous: ShardSpec | undefined };

/** Bad properties: the deployment cannot proceed until the stack code is fixed. */
export class InvalidPropertiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPropertiesError';
  }
}

// ServiceToken and ServiceTimeout are CloudFormation's own custom-resource properties; not worth a log line.
const KNOWN_PROPERTIES = new Set<string>(['ServiceToken', 'ServiceTimeout', ...Object.values(Prop)]);

/**
 * Parses a CloudFormation custom-resource event into a typed request.
 *
 * The new properties of a Create or Update are parsed strictly: binding from bad input could take or keep
 * the wrong numbers. Old properties, and a Delete's, are parsed leniently: they were accepted once, and
 * a property set that no longer parses must never block a rollback or a stack deletion; only the valid
 * numbers it names are acted on.
 */
export function parseRequest(event: CloudFormationCustomResourceEvent): ShardRequest {
  const logicalId = event.LogicalResourceId;
  switch (event.RequestType) {
    case 'Create':
      return { type: 'Create', logicalId, desired: parseSpec(event.ResourceProperties, { requestType: 'Create', logicalId }) };
    case 'Update':
      return {
        type: 'Update',
        logicalId,
        physicalId: event.PhysicalResourceId,
        desired: parseSpec(event.ResourceProperties, { requestType: 'Update', logicalId }),
        previous: lenientSpec(event.OldResourceProperties),
      };
    case 'Delete':
      return { type: 'Delete', logicalId, physicalId: event.PhysicalResourceId, previous: lenientSpec(event.ResourceProperties) };
    default:
      throw new InvalidPropertiesError(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}.`);
  }
}

/** Parses a property set leniently (see `parseRequest`); undefined when it names no shard at all. */
export function lenientSpec(properties: Record<string, unknown> | undefined): ShardSpec | undefined {
  try {
    return parseSpec(properties, { requestType: 'Delete', logicalId: '' }, true);
  } catch {
    return undefined;
  }
}

/** Property names this handler does not know; logged, never fatal (a newer template may add some). */
export function unknownPropertyNames(properties: Record<string, unknown>): string[] {
  return Object.keys(properties).filter((key) => !KNOWN_PROPERTIES.has(key));
}

interface EventContext {
  readonly requestType: string;
  readonly logicalId: string;
}

// ---------------------------------------------------------------------------------------------------
// Messages. Users write the construct's props (phoneNumbers, voiceConnectorGroupId, ...), not the
// template's property names, so each message names both. The construct checks every literal value at
// synth, so a bad value that reaches the handler came either from a token CloudFormation resolved at
// deploy time, or from something other than the construct (an escape-hatch override, a hand-edited
// template, another release of this library); each message says which is likely.

const LIBRARY = 'cdk-chime-voice-connector-groups';

const FROM_TOKEN = 'The construct checks literal values at synth, so this one came from a token that CloudFormation resolved at deploy time ' +
  '(such as a CfnParameter, an SSM parameter or an imported value).';

const NOT_RENDERED = (what: string) => `The construct renders only ${what}, so an escape-hatch override (addPropertyOverride) or a hand-edited template set this one.`;

const E164_RULE = `'+', then 2 to 15 digits, the first not 0 (pattern ${E164_PATTERN.source}; the '+' may be left out)`;

const PHONE_NUMBERS = `phoneNumbers (${EntryProp.PHONE_NUMBERS})`;
const GROUP_ID = `voiceConnectorGroupId (${EntryProp.GROUP_ID})`;

function shown(value: unknown): string {
  return value === undefined ? 'nothing (the property is missing)' : JSON.stringify(value);
}

/**
 * `lenient`: drop what does not parse instead of failing (old properties and Deletes); the shard and the
 * entries' shape must still be readable.
 */
export function parseSpec(properties: Record<string, unknown> | undefined, context: EventContext, lenient = false): ShardSpec {
  if (!properties || typeof properties !== 'object') throw new InvalidPropertiesError('ResourceProperties is missing.');
  const version = properties[Prop.SCHEMA_VERSION];
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(String(version))) {
    throw new InvalidPropertiesError(unsupportedSchemaMessage(version, context));
  }
  const shard = Number(properties[Prop.SHARD]);
  if (!Number.isInteger(shard) || shard < 0 || shard >= SHARD_COUNT || String(shard) !== String(properties[Prop.SHARD])) {
    throw new InvalidPropertiesError(
      `${Prop.SHARD} of ${context.logicalId} must be a shard number from 0 to ${SHARD_COUNT - 1}, got ${shown(properties[Prop.SHARD])}. ` +
      `${NOT_RENDERED('its own shard number')} Remove the override and synthesize again.`,
    );
  }
  const entries = properties[Prop.BINDINGS];
  if (!Array.isArray(entries)) {
    throw new InvalidPropertiesError(`${Prop.BINDINGS} of ${context.logicalId} must be a list, got ${shown(entries)}. ${NOT_RENDERED('a list here')} Remove the override and synthesize again.`);
  }
  const bindings = new Map<string, Binding>();
  for (const entry of entries) {
    for (const binding of parseEntry(entry, shard, context, lenient)) {
      const earlier = bindings.get(binding.number);
      if (earlier && !lenient) {
        throw new InvalidPropertiesError(
          `Phone number ${binding.number} is declared twice in the stack (for voice connector groups ${earlier.groupId} and ${binding.groupId}). ` +
          'A construct with a token list of numbers (a parameter, an import) and another construct both declare it. ' +
          'Declare every number once: remove it from one of the two lists, or from the value the token resolves to.',
        );
      }
      if (!earlier) bindings.set(binding.number, binding);
    }
  }
  const exclusive = properties[Prop.EXCLUSIVE_GROUPS];
  const exclusiveGroups = new Set<string>();
  if (exclusive !== undefined) {
    if (!Array.isArray(exclusive) || exclusive.some((g) => typeof g !== 'string' || g.trim() === '')) {
      if (!lenient) {
        throw new InvalidPropertiesError(
          `${Prop.EXCLUSIVE_GROUPS} of ${context.logicalId} must be a list of group ids, got ${shown(exclusive)}. ` +
          `${FROM_TOKEN} Make the exclusive constructs' voiceConnectorGroupId resolve to a group id.`,
        );
      }
    } else {
      exclusive.forEach((g: string) => exclusiveGroups.add(g));
    }
  }
  return { shard, bindings, exclusiveGroups };
}

function parseEntry(entry: unknown, shard: number, context: EventContext, lenient: boolean): Binding[] {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    if (lenient) return [];
    throw new InvalidPropertiesError(`An entry of ${Prop.BINDINGS} is ${shown(entry)}, not an object. ${NOT_RENDERED('objects here')} Remove the override and synthesize again.`);
  }
  const e = entry as Record<string, unknown>;
  const groupId = e[EntryProp.GROUP_ID];
  if (typeof groupId !== 'string' || groupId.trim() === '') {
    if (lenient) return [];
    throw new InvalidPropertiesError(
      typeof groupId === 'string'
        ? `${GROUP_ID} resolved to ${JSON.stringify(groupId)} at deploy time, which is blank. ${FROM_TOKEN} Make it resolve to the id of an existing voice connector group in the stack's account and region.`
        : `${GROUP_ID} must be a non-blank string, got ${shown(groupId)}. ${NOT_RENDERED('a string here')} Remove the override.`,
    );
  }
  const force = flag(e, EntryProp.FORCE_ASSOCIATE, 'forceAssociate', lenient);
  const retain = flag(e, EntryProp.RETAIN, 'removalPolicy: RemovalPolicy.RETAIN', lenient);
  const reconcile = e[EntryProp.RECONCILE];
  if (reconcile !== undefined && reconcile !== RECONCILE_EVERY_DEPLOY && !lenient) {
    throw new InvalidPropertiesError(
      `reconcile (${EntryProp.RECONCILE}) must be "${RECONCILE_EVERY_DEPLOY}" or absent, got ${shown(reconcile)}. ${NOT_RENDERED('ReconcileMode.EVERY_DEPLOY')} ` +
      'Set reconcile on the construct and remove the override.',
    );
  }
  const filtered = flag(e, EntryProp.SHARD_FILTERED, 'a token list of phoneNumbers', lenient);
  const raw = e[EntryProp.PHONE_NUMBERS];
  if (!Array.isArray(raw)) {
    if (lenient) return [];
    throw new InvalidPropertiesError(
      `${PHONE_NUMBERS} must be a list of E.164 phone numbers, got ${shown(raw)}. A token that resolves to a single string instead of a list ` +
      '(use a CommaDelimitedList parameter or Fn.split), an escape-hatch override or a hand-edited template put it there.',
    );
  }
  const seen = new Map<string, string>();
  const bindings: Binding[] = [];
  for (const item of raw) {
    if (typeof item !== 'string' || !E164_PATTERN.test(item)) {
      if (lenient) continue;
      const hint = item === '' ? ' An empty string is what a CommaDelimitedList parameter deployed with an empty value resolves to.' : '';
      throw new InvalidPropertiesError(
        `${PHONE_NUMBERS} contains ${JSON.stringify(item)}, which is not an E.164 phone number (${E164_RULE}). ${FROM_TOKEN}${hint} ` +
        "Make it resolve to numbers written as '+', the country code and the subscriber number, digits only, e.g. '+12065550100'.",
      );
    }
    const number = normalizeE164(item);
    const earlier = seen.get(number);
    if (earlier !== undefined) {
      if (lenient) continue;
      throw new InvalidPropertiesError(
        `${PHONE_NUMBERS} lists ${number} twice (as ${JSON.stringify(earlier)} and ${JSON.stringify(item)}); a number may appear once, with or without '+'. ` +
        `${FROM_TOKEN} Remove the duplicate.`,
      );
    }
    seen.set(number, item);
    if (shardOf(number) !== shard) {
      // A token list goes to every shard, each keeping its own numbers; a literal one is split at synth.
      if (filtered || lenient) continue;
      throw new InvalidPropertiesError(
        `${number} is in the properties of ${context.logicalId}, but it belongs to binding resource shard ${shardOf(number)}: two resources would own it. ` +
        `${NOT_RENDERED('the numbers of its own shard')} Remove the override and synthesize again.`,
      );
    }
    bindings.push({ number, groupId, force, retain, everyDeploy: reconcile === RECONCILE_EVERY_DEPLOY });
  }
  return bindings;
}

function flag(entry: Record<string, unknown>, property: string, prop: string, lenient: boolean): boolean {
  const value = entry[property];
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  if (lenient) return false;
  throw new InvalidPropertiesError(
    `${prop} (${property}) must be "true" or absent, got ${JSON.stringify(value)}. ${NOT_RENDERED('"true" here')} Set it on the construct and remove the override.`,
  );
}

function unsupportedSchemaMessage(version: unknown, context: EventContext): string {
  const reads = `this handler reads SchemaVersion ${SUPPORTED_SCHEMA_VERSIONS.join(' or ')}`;
  const numeric = /^\d+$/.test(String(version));
  const n = Number(version);
  if (version === undefined) {
    return `The properties of ${context.logicalId} have no ${Prop.SCHEMA_VERSION}: a release of ${LIBRARY} from before it existed rendered them, ` +
      `which gave each construct a resource of its own (${reads}). Nothing was changed. Synthesize again with this release (it renders SchemaVersion ${SCHEMA_VERSION}) and deploy.`;
  }
  let origin: string;
  let fix: string;
  if (!numeric) {
    origin = `is not a version any release of ${LIBRARY} renders (${reads}); an escape-hatch override or a hand-edited template set it`;
    fix = `Remove the override so the construct renders its own ${Prop.SCHEMA_VERSION}, and deploy again.`;
  } else if (n > Number(SCHEMA_VERSION)) {
    origin = `was rendered by a newer release of ${LIBRARY} than the one this handler was deployed from (${reads})`;
    fix = `Deploy the template with the handler of the release that rendered it: upgrade ${LIBRARY} in this app to that release, ` +
      `or synthesize again with this release so the template carries SchemaVersion ${SCHEMA_VERSION}.`;
  } else {
    origin = `was rendered by an older release of ${LIBRARY}, which gave each construct a resource of its own (${reads})`;
    fix = `Synthesize again with this release (it renders SchemaVersion ${SCHEMA_VERSION}) and deploy.`;
  }
  return `${Prop.SCHEMA_VERSION} ${JSON.stringify(version)} in the properties of ${context.logicalId} ${origin}. Nothing was changed. ${fix}`;
}
