import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { E164_PATTERN, Prop, RECONCILE_EVERY_DEPLOY, SCHEMA_VERSION, SUPPORTED_SCHEMA_VERSIONS, normalizeE164 } from '../src/binding-properties';

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
  const context: EventContext = { requestType: event.RequestType, logicalId, stackId: event.StackId };
  switch (event.RequestType) {
    case 'Create':
      return { type: 'Create', logicalId, desired: parseSpec(event.ResourceProperties, 'ResourceProperties', context) };
    case 'Update':
      return {
        type: 'Update',
        logicalId,
        physicalId: event.PhysicalResourceId,
        desired: parseSpec(event.ResourceProperties, 'ResourceProperties', context),
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

/** The event a property set came from, so a message can say what CloudFormation does next. */
export interface EventContext {
  readonly requestType: string;
  readonly logicalId: string;
  readonly stackId?: string;
}

export function parseSpec(properties: Record<string, unknown> | undefined, where: string, context?: EventContext): BindingSpec {
  if (!properties || typeof properties !== 'object') {
    throw new InvalidPropertiesError(`${where} is missing.`);
  }
  const version = properties[Prop.SCHEMA_VERSION];
  if (version !== undefined && !SUPPORTED_SCHEMA_VERSIONS.includes(String(version))) {
    throw new InvalidPropertiesError(unsupportedSchemaMessage(version, context));
  }

  const groupId = properties[Prop.GROUP_ID];
  if (typeof groupId !== 'string' || groupId.trim() === '') {
    throw new InvalidPropertiesError(groupIdMessage(groupId));
  }

  const numbers = parseNumbers(properties[Prop.PHONE_NUMBERS], PHONE_NUMBERS, { requireOne: true });
  const peers = properties[Prop.PEER_PHONE_NUMBERS] === undefined
    ? []
    : parseNumbers(properties[Prop.PEER_PHONE_NUMBERS], PEER_PHONE_NUMBERS, { requireOne: false });

  const reconcile = properties[Prop.RECONCILE];
  if (reconcile !== undefined && reconcile !== RECONCILE_EVERY_DEPLOY && reconcile !== 'ON_CHANGE') {
    throw new InvalidPropertiesError(
      `reconcile (${Prop.RECONCILE}) must be "${RECONCILE_EVERY_DEPLOY}" or "ON_CHANGE", got ${shown(reconcile)}. ` +
      `${NOT_RENDERED('ReconcileMode values')} ` +
      'Set reconcile: ReconcileMode.EVERY_DEPLOY or ReconcileMode.ON_CHANGE on the construct (or leave it out) and remove the override.',
    );
  }
  const exclusive = parseBoolean(properties[Prop.EXCLUSIVE], 'exclusive', Prop.EXCLUSIVE, false);

  return {
    groupId,
    numbers,
    forceAssociate: parseBoolean(properties[Prop.FORCE_ASSOCIATE], 'forceAssociate', Prop.FORCE_ASSOCIATE, false),
    peerNumbers: new Set(peers),
    // Only present when set, so specs of on-change resources look exactly as they always did.
    ...(reconcile === RECONCILE_EVERY_DEPLOY ? { everyDeploy: true } : {}),
    ...(exclusive ? { exclusive: true } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Messages. Users write the construct's props (phoneNumbers, voiceConnectorGroupId, ...), not the
// template's property names, so each message names both. The construct checks every literal value at
// synth, so a bad value that reaches the handler came either from a token CloudFormation resolved at
// deploy time, or from something other than the construct (an escape-hatch override, a hand-edited
// template, another release of this library); each message says which is likely.

const LIBRARY = 'cdk-chime-voice-connector-groups';

/** A token (parameter, import, attribute) that resolved to a bad value: only string props can be tokens. */
const FROM_TOKEN = 'The construct checks literal values at synth, so this one came from a token that CloudFormation resolved at deploy time ' +
  '(such as a CfnParameter, an SSM parameter or an imported value).';

/** A value the construct never renders. */
const NOT_RENDERED = (what: string) => `The construct renders only ${what}, so an escape-hatch override (addPropertyOverride) or a hand-edited template set this one.`;

const E164_RULE = `'+', then 2 to 15 digits, the first not 0 (pattern ${E164_PATTERN.source}; the '+' may be left out)`;
const E164_EXAMPLE = "digits only, e.g. '+12065550100'";

/** How a number-list property is named, and what to tell the user about a bad value in it. */
interface NumberListTerms {
  /** `phoneNumbers (E164PhoneNumbers)`. */
  readonly name: string;
  /** Where a bad element most likely came from. */
  readonly origin: string;
  /** What to change. */
  readonly fix: string;
}

const PHONE_NUMBERS: NumberListTerms = {
  name: `phoneNumbers (${Prop.PHONE_NUMBERS})`,
  origin: FROM_TOKEN,
  fix: 'Make it resolve to numbers written as \'+\', the country code and the subscriber number, ' + E164_EXAMPLE + '.',
};

const PEER_PHONE_NUMBERS: NumberListTerms = {
  name: `${Prop.PEER_PHONE_NUMBERS} (the phoneNumbers of this stack's other constructs on the same group, which the construct renders)`,
  origin: NOT_RENDERED('numbers it has checked at synth'),
  fix: 'Remove the override and synthesize again.',
};

function shown(value: unknown): string {
  return value === undefined ? 'nothing (the property is missing)' : JSON.stringify(value);
}

function groupIdMessage(groupId: unknown): string {
  const name = `voiceConnectorGroupId (${Prop.GROUP_ID})`;
  const fix = 'the id of an existing voice connector group in the stack\'s account and region (aws chime-sdk-voice list-voice-connector-groups shows them)';
  if (typeof groupId === 'string') {
    return `${name} resolved to ${JSON.stringify(groupId)} at deploy time, which is blank. ${FROM_TOKEN} Make it resolve to ${fix}.`;
  }
  return `${name} must be a non-blank string, got ${shown(groupId)}. ${NOT_RENDERED('a string here')} Remove the override and pass ${fix}.`;
}

/**
 * The SchemaVersion is not one this handler reads. Create and Update land here; a Delete, and the old
 * properties of an Update, never do: they are read leniently (tryParseSpec) and their valid numbers unbound.
 */
function unsupportedSchemaMessage(version: unknown, context?: EventContext): string {
  const supported = SUPPORTED_SCHEMA_VERSIONS.map(Number);
  const reads = `this handler reads SchemaVersion ${SUPPORTED_SCHEMA_VERSIONS.join(' or ')}`;
  const numeric = /^\d+$/.test(String(version));
  const n = Number(version);
  let origin: string;
  let fix: string;
  if (!numeric) {
    origin = `is not a version any release of ${LIBRARY} renders (${reads}); an escape-hatch override or a hand-edited template set it`;
    fix = `Remove the override so the construct renders its own ${Prop.SCHEMA_VERSION}, and deploy again.`;
  } else if (n > Math.max(...supported)) {
    origin = `was rendered by a newer release of ${LIBRARY} than the one this handler was deployed from (${reads})`;
    fix = `Deploy the template with the handler of the release that rendered it: upgrade ${LIBRARY} in this app to that release, ` +
      `or synthesize again with this release so the template carries SchemaVersion ${SCHEMA_VERSION}.`;
  } else if (n < Math.min(...supported)) {
    origin = `was rendered by an older release of ${LIBRARY} that this handler no longer reads (${reads})`;
    fix = `Synthesize again with this release (it renders SchemaVersion ${SCHEMA_VERSION}) and deploy, ` +
      'or deploy with the older release that rendered it, whose handler reads it.';
  } else {
    origin = `was rendered by a release of ${LIBRARY} whose property shape this handler does not read (${reads})`;
    fix = `Synthesize again with this release (it renders SchemaVersion ${SCHEMA_VERSION}) and deploy, or deploy with the release that rendered it.`;
  }
  const what = context ? `${Prop.SCHEMA_VERSION} ${JSON.stringify(version)} in the properties of ${context.logicalId}` : `${Prop.SCHEMA_VERSION} ${JSON.stringify(version)}`;
  const lines = [`${what} ${origin}. Nothing was changed.`, fix];
  if (numeric) {
    lines.push(`If the app loads two copies of ${LIBRARY}, the template and the handler can come from different releases: npm ls ${LIBRARY} lists them.`);
  }
  if (context?.requestType === 'Update') {
    const stack = stackName(context.stackId) ?? '<stack>';
    lines.push(
      'If CloudFormation is rolling back (the properties are those of the release before an upgrade or downgrade), this handler cannot ' +
      'roll the resource back and retrying the rollback fails the same way: skip it with ' +
      `aws cloudformation continue-update-rollback --stack-name ${stack} --resources-to-skip ${context.logicalId}. ` +
      'Its numbers stay bound as they are now; deploy again afterwards.',
    );
  }
  lines.push(`A Delete carrying this ${Prop.SCHEMA_VERSION} is not blocked: it unbinds the numbers it can read from the properties.`);
  return lines.join(' ');
}

function stackName(stackId: string | undefined): string | undefined {
  // arn:aws:cloudformation:region:account:stack/NAME/uuid
  return stackId?.split(':').pop()?.split('/')[1];
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

function parseNumbers(value: unknown, terms: NumberListTerms, opts: { requireOne: boolean }): string[] {
  if (!Array.isArray(value)) {
    throw new InvalidPropertiesError(
      `${terms.name} must be a list of E.164 phone numbers, got ${shown(value)}. ` +
      (terms === PHONE_NUMBERS
        ? 'A token that resolves to a single string instead of a list (use a CommaDelimitedList parameter or Fn.split), an escape-hatch override ' +
          'or a hand-edited template put it there. '
        : `${terms.origin} `) +
      terms.fix,
    );
  }
  if (opts.requireOne && value.length === 0) {
    throw new InvalidPropertiesError(
      `${terms.name} resolved to an empty list at deploy time; at least one number is required. ${terms.origin} ` +
      'Make it resolve to at least one number, or remove the construct to unbind them all.',
    );
  }
  const seen = new Map<string, string>();
  for (const item of value) {
    if (typeof item !== 'string' || !E164_PATTERN.test(item)) {
      const hint = item === '' ? ' An empty string is what a CommaDelimitedList parameter deployed with an empty value resolves to.' : '';
      throw new InvalidPropertiesError(
        `${terms.name} contains ${JSON.stringify(item)}, which is not an E.164 phone number (${E164_RULE}). ` +
        `${terms.origin}${hint} ${terms.fix}`,
      );
    }
    const normalized = normalizeE164(item);
    const earlier = seen.get(normalized);
    if (earlier !== undefined) {
      throw new InvalidPropertiesError(
        `${terms.name} lists ${normalized} twice (as ${JSON.stringify(earlier)} and ${JSON.stringify(item)}); a number may appear once, with or without '+'. ` +
        `${terms.origin} Remove the duplicate.`,
      );
    }
    seen.set(normalized, item);
  }
  return [...seen.keys()];
}

function parseBoolean(value: unknown, prop: string, property: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidPropertiesError(
    `${prop} (${property}) must be "true" or "false", got ${JSON.stringify(value)}. ` +
    `${NOT_RENDERED('true or false')} Set ${prop}: true or false on the construct and remove the override.`,
  );
}
