import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import { Construct, type IConstruct } from 'constructs';
import { E164_PATTERN, normalizeE164 } from './binding-properties';
import { setHandlerOptions } from './handler-settings';
import { driftMetric, PhoneNumberBindings } from './phone-number-bindings';
import type { PhoneNumbersHandlerOptions } from './phone-numbers-handler-options';

/**
 * When the handler reconciles a `VoiceConnectorGroupPhoneNumbers`.
 */
export enum ReconcileMode {
  /**
   * Only when the declaration of a number changes (CloudFormation sends an Update to the binding resource
   * that holds it only then), and only the numbers that changed. Drift made outside the stack stays until
   * the declaration changes.
   */
  ON_CHANGE = 'ON_CHANGE',
  /**
   * On every deploy: the binding resources holding these numbers get a property that changes on every
   * synth, so CloudFormation sends each an Update each time, and the handler reads these numbers and repairs any difference
   * (binds declared numbers that are not bound; takes numbers bound elsewhere only with `forceAssociate`).
   * The stack then changes on every deploy, so `cdk deploy` never reports "no changes" for it.
   */
  EVERY_DEPLOY = 'EVERY_DEPLOY',
}

/**
 * Scheduled drift detection for a `VoiceConnectorGroupPhoneNumbers`.
 */
export interface DriftDetectionOptions {
  /**
   * How often the check runs.
   *
   * @default Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Whether the check also repairs what it finds, by the same rules as `ReconcileMode.EVERY_DEPLOY`
   * (and, for an exclusive construct, unbinds numbers nothing declares). When false it only reports.
   *
   * @default false
   */
  readonly repair?: boolean;
}

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
   * What happens to a number's binding when the stack stops declaring it: when it is removed from
   * `phoneNumbers`, when the construct is removed without the number moving to another construct, or when
   * the stack is deleted.
   *
   * `RemovalPolicy.DESTROY` unbinds the number if it is still bound to its group. `RemovalPolicy.RETAIN`
   * leaves it bound (to unbind it later, declare it with `DESTROY` for one deploy first). Moving a number
   * between constructs or groups of the stack is not a removal, whatever the policy.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * When the bindings are reconciled: only on property changes, or on every deploy (reading the actual
   * bindings and repairing drift).
   *
   * @default ReconcileMode.ON_CHANGE
   */
  readonly reconcile?: ReconcileMode;

  /**
   * Whether the group holds exactly the numbers the stack declares for it: a number found on the group
   * that the stack does not declare for it is unbound (when a binding resource of the stack is created or
   * updated, and by a scheduled check with `repair`). This unbinds numbers bound by hand or by other tools.
   * Every construct of the stack on the group must set it, and no other stack may declare numbers for the
   * group. A stack with an exclusive group renders all 64 of its binding resources.
   *
   * @default false
   */
  readonly exclusive?: boolean;

  /**
   * Scheduled drift detection of the group: a checker function, run on a schedule, compares what the stack
   * declares for the group with the group, publishes the `ChimeVoiceConnectorGroups/DriftedPhoneNumbers`
   * metric and raises `alarm`. One check per group and stack: every construct of the stack on the group
   * that sets it must set the same options.
   *
   * @default - no scheduled check
   */
  readonly driftDetection?: DriftDetectionOptions;
}

/**
 * Declares phone numbers bound to an Amazon Chime SDK Voice Connector group, reconciled at deploy time.
 *
 * The construct is a declaration, not a resource of its own: a number's binding is owned by one of the
 * stack's binding resources, chosen by the number alone (see `PhoneNumberBindings`), so renaming or moving
 * the construct, moving numbers between constructs or groups, or deleting a construct while its numbers
 * move elsewhere never unbinds a number the stack still declares.
 *
 * A deploy binds every added number, unbinds the numbers the stack no longer declares, moves numbers whose
 * group changed, and makes no call for the rest. Numbers the stack never declared are never unbound, and
 * numbers bound elsewhere are never taken unless `forceAssociate` is set.
 */
export class VoiceConnectorGroupPhoneNumbers extends Construct {
  /**
   * Configures the handlers this library deploys in the scope's stack (the one behind every
   * `VoiceConnectorGroupPhoneNumbers`, and the one behind `VoiceConnectorGroup`): their log group,
   * log retention, log encryption key and log level. Call it before the first construct of this library
   * in the stack, at most once per stack.
   */
  public static configureHandler(scope: Construct, options: PhoneNumbersHandlerOptions): void {
    setHandlerOptions(Stack.of(scope), options);
  }

  /** Construct path that declared each number, per app: two declarations of one number would fight at deploy time. */
  private static readonly declarations = new WeakMap<IConstruct, Map<string, string>>();

  /** Groups declared exclusive per app, with the stack that declares them (literal group ids only). */
  private static readonly exclusiveGroups = new WeakMap<IConstruct, Map<string, { stack: string; exclusive: boolean }>>();

  /** Id of the voice connector group the numbers are bound to. */
  public readonly voiceConnectorGroupId: string;

  /** The declared phone numbers, normalised to the `+` E.164 form (or the token list as given). */
  public readonly phoneNumbers: string[];

  /** Whether the group holds exactly the numbers the stack declares for it. */
  public readonly exclusive: boolean;

  /**
   * Alarm raised when the scheduled drift check of the group finds at least one drifted number (only with
   * `driftDetection`). Every construct of the stack on the same group shares it.
   */
  public readonly alarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: VoiceConnectorGroupPhoneNumbersProps) {
    super(scope, id);

    this.voiceConnectorGroupId = validateGroupId(this, props.voiceConnectorGroupId);
    this.phoneNumbers = validatePhoneNumbers(this, props.phoneNumbers);
    this.exclusive = props.exclusive ?? false;
    this.claimNumbers();
    const literalNumbers = !Token.isUnresolved(this.phoneNumbers) && this.phoneNumbers.every((n) => !Token.isUnresolved(n));
    if (this.exclusive && !literalNumbers) {
      throw new Error(
        `${this.node.path}: an exclusive construct needs literal phone numbers (the group's declared set is computed at synth time); ` +
        'a token here would let the handler unbind numbers it cannot see. Pass the numbers as strings.',
      );
    }
    if (props.driftDetection && !literalNumbers) {
      throw new Error(
        `${this.node.path}: driftDetection needs literal phone numbers: the check reads them from the deployed template. Pass the numbers as strings.`,
      );
    }

    const stack = Stack.of(this);
    this.claimGroup(stack);
    const { alarm } = PhoneNumberBindings.of(stack).declare({
      scope: this,
      groupId: this.voiceConnectorGroupId,
      phoneNumbers: this.phoneNumbers,
      forceAssociate: props.forceAssociate ?? false,
      retain: retains(this, props.removalPolicy),
      everyDeploy: props.reconcile === ReconcileMode.EVERY_DEPLOY,
      exclusive: this.exclusive,
      driftDetection: props.driftDetection,
    });
    this.alarm = alarm;
  }

  /**
   * The number of drifted phone numbers the scheduled check found on its last run for this construct's
   * group: declared numbers not bound to the group, plus, for an exclusive group, numbers on the group that
   * the stack does not declare. Published by the check (Embedded Metric Format) only when `driftDetection`
   * is set.
   *
   * @default - maximum over 1 hour
   */
  public metricDriftedPhoneNumbers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return driftMetric(this.voiceConnectorGroupId, props);
  }

  /**
   * An exclusive group must be declared in one stack only: another stack's numbers on it would be
   * unbound as foreign. Only literal group ids can be compared across stacks.
   */
  private claimGroup(stack: Stack): void {
    if (Token.isUnresolved(this.voiceConnectorGroupId)) return;
    const root = this.node.root;
    const groups = VoiceConnectorGroupPhoneNumbers.exclusiveGroups.get(root) ?? new Map<string, { stack: string; exclusive: boolean }>();
    VoiceConnectorGroupPhoneNumbers.exclusiveGroups.set(root, groups);
    const seen = groups.get(this.voiceConnectorGroupId);
    if (seen && seen.stack !== stack.node.path && (seen.exclusive || this.exclusive)) {
      throw new Error(
        `${this.node.path}: voice connector group ${this.voiceConnectorGroupId} is exclusive and is declared in stacks ${seen.stack} and ${stack.node.path}. ` +
        'An exclusive group holds exactly what its stack declares: declare all of its numbers in one stack.',
      );
    }
    groups.set(this.voiceConnectorGroupId, { stack: stack.node.path, exclusive: (seen?.exclusive ?? false) || this.exclusive });
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
}

/** Whether a removal policy keeps the bindings; only the two policies that make sense for a binding are accepted. */
function retains(scope: Construct, policy: RemovalPolicy | undefined): boolean {
  if (policy === undefined || policy === RemovalPolicy.DESTROY) return false;
  if (policy === RemovalPolicy.RETAIN || policy === RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE) return true;
  throw new Error(
    `${scope.node.path}: removalPolicy ${policy} does not apply to phone-number bindings. ` +
    'Use RemovalPolicy.DESTROY (unbind the numbers when the stack stops declaring them) or RemovalPolicy.RETAIN (keep them bound).',
  );
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
