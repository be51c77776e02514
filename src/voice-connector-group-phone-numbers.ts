import { CustomResource, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { BINDING_RESOURCE_TYPE, E164_PATTERN, Prop, SCHEMA_VERSION, normalizeE164, type BindingResourceProperties } from './binding-properties';
import type { PhoneNumbersHandlerOptions } from './phone-numbers-handler-options';
import { PhoneNumbersProvider } from './phone-numbers-provider';

/**
 * Properties of a `VoiceConnectorGroupPhoneNumbers`.
 */
export interface VoiceConnectorGroupPhoneNumbersProps {
  /**
   * Id of the Amazon Chime SDK Voice Connector group to bind the numbers to.
   *
   * May be a token, for example the id of a group created in the same app; tokens are checked at
   * deploy time instead of synth time.
   */
  readonly voiceConnectorGroupId: string;

  /**
   * Phone numbers to bind to the group, in E.164 format (for example `+12065550100`).
   *
   * Numbers without the leading `+` are accepted and normalised. The numbers must already be in the
   * account's phone number inventory with the Voice Connector product type. May be a token list.
   */
  readonly phoneNumbers: string[];

  /**
   * Whether to take a number that is bound to another voice connector or group.
   *
   * When false, a number bound elsewhere fails the deployment with a message naming where it is bound.
   *
   * @default false
   */
  readonly forceAssociate?: boolean;

  /**
   * What happens to the bindings when this resource is deleted or replaced.
   *
   * `RemovalPolicy.DESTROY` unbinds the numbers this resource declared that are still bound to the
   * group. `RemovalPolicy.RETAIN` leaves them bound.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Binds a set of phone numbers to an Amazon Chime SDK Voice Connector group, reconciled at deploy time.
 *
 * Create binds every declared number; Update binds only the added numbers and unbinds only the removed
 * ones; Delete unbinds the declared numbers still bound to the group. Numbers this resource did not
 * declare are never unbound, and numbers bound elsewhere are never taken unless `forceAssociate` is set.
 *
 * All instances in a stack share one handler function.
 */
export class VoiceConnectorGroupPhoneNumbers extends Construct {
  /**
   * Configures the handler that every `VoiceConnectorGroupPhoneNumbers` in the scope's stack shares:
   * its log group, log retention, log encryption key and log level. Call it before the first
   * `VoiceConnectorGroupPhoneNumbers` in the stack, at most once per stack.
   */
  public static configureHandler(scope: Construct, options: PhoneNumbersHandlerOptions): void {
    PhoneNumbersProvider.create(Stack.of(scope), options);
  }

  /** Instances per stack, so that each can find its siblings on the same group without walking the tree. */
  private static readonly byStack = new WeakMap<Stack, VoiceConnectorGroupPhoneNumbers[]>();

  /** Construct path that declared each number, per app: two declarations of one number would fight at deploy time. */
  private static readonly declarations = new WeakMap<IConstruct, Map<string, string>>();

  /** Id of the voice connector group the numbers are bound to. */
  public readonly voiceConnectorGroupId: string;

  /** The declared phone numbers, normalised to the `+` E.164 form (or the token list as given). */
  public readonly phoneNumbers: string[];

  constructor(scope: Construct, id: string, props: VoiceConnectorGroupPhoneNumbersProps) {
    super(scope, id);

    this.voiceConnectorGroupId = validateGroupId(this, props.voiceConnectorGroupId);
    this.phoneNumbers = validatePhoneNumbers(this, props.phoneNumbers);
    this.claimNumbers();

    const stack = Stack.of(this);
    const provider = PhoneNumbersProvider.getOrCreate(stack);
    const siblings = VoiceConnectorGroupPhoneNumbers.byStack.get(stack) ?? [];
    siblings.push(this);
    VoiceConnectorGroupPhoneNumbers.byStack.set(stack, siblings);

    const properties: BindingResourceProperties = {
      [Prop.SCHEMA_VERSION]: SCHEMA_VERSION,
      [Prop.GROUP_ID]: this.voiceConnectorGroupId,
      [Prop.PHONE_NUMBERS]: this.phoneNumbers,
      [Prop.FORCE_ASSOCIATE]: props.forceAssociate ?? false,
      [Prop.PEER_PHONE_NUMBERS]: Lazy.list({ produce: () => this.peerPhoneNumbers() }, { omitEmpty: true }),
    };

    new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: BINDING_RESOURCE_TYPE,
      properties,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  private claimNumbers(): void {
    const root = this.node.root;
    const declared = VoiceConnectorGroupPhoneNumbers.declarations.get(root) ?? new Map<string, string>();
    VoiceConnectorGroupPhoneNumbers.declarations.set(root, declared);
    if (Token.isUnresolved(this.phoneNumbers)) return;
    for (const number of this.phoneNumbers.filter((n) => !Token.isUnresolved(n))) {
      const other = declared.get(number);
      if (other !== undefined) {
        throw new Error(
          `${this.node.path}: phone number ${number} is already declared by ${other}. ` +
          'A number can be bound to only one group, by one construct, in an app: remove it from one of the two.',
        );
      }
    }
    this.phoneNumbers.filter((n) => !Token.isUnresolved(n)).forEach((n) => declared.set(n, this.node.path));
  }

  /**
   * Numbers declared by the other instances in this stack that bind the same group. Passing them lets
   * the handler keep a number bound when it moves from one construct to another in a single deploy,
   * whichever of the two resources CloudFormation updates first.
   */
  private peerPhoneNumbers(): string[] {
    const stack = Stack.of(this);
    const groupKey = JSON.stringify(stack.resolve(this.voiceConnectorGroupId));
    const peers = new Set<string>();
    for (const other of VoiceConnectorGroupPhoneNumbers.byStack.get(stack) ?? []) {
      if (other === this) continue;
      if (JSON.stringify(stack.resolve(other.voiceConnectorGroupId)) !== groupKey || Token.isUnresolved(other.phoneNumbers)) continue;
      other.phoneNumbers.filter((n) => !Token.isUnresolved(n)).forEach((n) => peers.add(n));
    }
    return [...peers].sort();
  }
}

function validateGroupId(scope: Construct, groupId: string): string {
  if (Token.isUnresolved(groupId)) return groupId;
  if (groupId.trim() === '') {
    throw new Error(
      `${scope.node.path}: voiceConnectorGroupId ${JSON.stringify(groupId)} is blank. ` +
      'Pass the id of an existing voice connector group (aws chime-sdk-voice list-voice-connector-groups shows them).',
    );
  }
  return groupId;
}

function validatePhoneNumbers(scope: Construct, phoneNumbers: string[]): string[] {
  if (Token.isUnresolved(phoneNumbers)) return phoneNumbers;
  if (phoneNumbers.length === 0) {
    throw new Error(
      `${scope.node.path}: phoneNumbers is empty; at least one number is required. ` +
      'Declare the numbers to bind, or remove the construct to unbind them all.',
    );
  }
  const seen = new Map<string, string>();
  return phoneNumbers.map((value, index) => {
    if (Token.isUnresolved(value)) return value;
    if (!E164_PATTERN.test(value)) {
      throw new Error(
        `${scope.node.path}: phoneNumbers[${index}] ${JSON.stringify(value)} is not an E.164 number (pattern ${E164_PATTERN.source}). ` +
        "Write '+', the country code and the subscriber number, digits only, e.g. '+12065550100'.",
      );
    }
    const normalized = normalizeE164(value);
    const earlier = seen.get(normalized);
    if (earlier !== undefined) {
      throw new Error(
        `${scope.node.path}: phoneNumbers lists ${normalized} twice (${JSON.stringify(earlier)} and ${JSON.stringify(value)}). Remove the duplicate.`,
      );
    }
    seen.set(normalized, value);
    return normalized;
  });
}
