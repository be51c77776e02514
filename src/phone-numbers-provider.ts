import { ArnFormat, CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IConstruct } from 'constructs';
import { ANSWER_LIMIT_MINUTES, WAITER_LOGICAL_ID_ENV } from './binding-properties';
import { rootOf } from './drift-checker';
import { bundledFunction } from './handler-assets';
import { ProviderLogGroups } from './handler-settings';
import { acknowledgeNagFindings, invokeVersionsOf, wildcardResource } from './nag';
import { pinFrameworkFunctions } from './runtime';

/**
 * Chime SDK Voice actions the handler calls. None of them has a resource type, so `Resource: "*"` is the
 * narrowest grant IAM allows. AssociatePhoneNumbersWithVoiceConnector is only used to hand a number back
 * to the single voice connector it was taken from, when a deployment with forceAssociate fails.
 */
export const HANDLER_ACTIONS: readonly string[] = [
  'chime:AssociatePhoneNumbersWithVoiceConnectorGroup',
  'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup',
  'chime:AssociatePhoneNumbersWithVoiceConnector',
  'chime:GetPhoneNumber',
  'chime:ListPhoneNumbers',
];

/** Context key that overrides how many numbers the handler sends per association call. */
export const BATCH_SIZE_CONTEXT = 'cdk-chime-voice-connector-groups:batchSize';

/**
 * The stack-wide singleton behind every `VoiceConnectorGroupPhoneNumbers`: one handler function, one
 * Provider framework. Its id is part of every binding resource's service token, so it never changes.
 */
export class PhoneNumbersProvider extends Construct {
  public static readonly ID = 'VoiceConnectorGroupPhoneNumbersProvider';

  public static getOrCreate(stack: Stack): PhoneNumbersProvider {
    const existing = stack.node.tryFindChild(PhoneNumbersProvider.ID) as PhoneNumbersProvider | undefined;
    return existing ?? new PhoneNumbersProvider(stack, PhoneNumbersProvider.ID);
  }

  public readonly serviceToken: string;
  public readonly handler: lambda.Function;
  private readonly logs = new ProviderLogGroups(this);

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    const { fn } = bundledFunction(this, {
      asset: 'phone-numbers-handler',
      ids: { role: 'HandlerRole', function: 'Handler', logGroup: 'HandlerLogs' },
      description: 'cdk-chime-voice-connector-groups: binds phone numbers to voice connector groups',
      roleDescription: 'Reconciles Chime SDK Voice phone-number bindings for cdk-chime-voice-connector-groups',
      chimeActions: HANDLER_ACTIONS,
      wildcardReason: 'Chime SDK Voice phone-number actions (association, GetPhoneNumber, ListPhoneNumbers) have no resource type: "*" is the narrowest grant IAM allows.',
      // Long enough for thousands of numbers against a throttled API, with a third kept back for undoing
      // a failed attempt; well inside the Provider framework's 15-minute onEvent limit.
      timeout: Duration.minutes(10),
      logs: this.logs,
      environment: this.batchSizeEnvironment(),
    });
    this.handler = fn;

    const frameworkLogs = this.logs.logGroup('FrameworkLogs');
    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Provider framework for cdk-chime-voice-connector-groups: invokes the handler',
    });
    frameworkLogs.grantWrite(frameworkRole);
    const completionRole = new iam.Role(this, 'CompletionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Provider framework for cdk-chime-voice-connector-groups: checks completion and reports timeouts',
    });
    frameworkLogs.grantWrite(completionRole);

    // The same function answers the completion checks: a deployment too large for one invocation goes
    // on there, past the 15-minute Lambda limit, until it is done or reaches its own time limit.
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
      isCompleteHandler: this.handler,
      queryInterval: Duration.seconds(10),
      // Past the handler's own answer limit, so the handler always fails itself first (the framework's
      // timeout path re-reads the event from a cause capped at 32,768 characters, and counts attempts, not
      // time), and inside CloudFormation's ServiceTimeout for the binding resources.
      totalTimeout: Duration.minutes(ANSWER_LIMIT_MINUTES + 3),
      logGroup: frameworkLogs,
      frameworkOnEventRole: frameworkRole,
      frameworkCompleteAndTimeoutRole: completionRole,
      // Set both explicitly: aws-cdk-lib turned the waiter's logging off by default in 2.206. Every event
      // is logged, but not the execution data, which holds the response URL and the phone numbers.
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: this.logs.logGroup('WaiterLogs'),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    pinFrameworkFunctions(provider);
    this.serviceToken = provider.serviceToken;
    const framework = provider.node;
    this.grantStackReads(scope, framework.findChild('waiter-state-machine'));

    acknowledgeNagFindings(frameworkRole.node.findChild('DefaultPolicy'), [invokeVersionsOf(this.handler)]);
    acknowledgeNagFindings(completionRole.node.findChild('DefaultPolicy'), [invokeVersionsOf(this.handler)]);
    const waiter = framework.findChild('waiter-state-machine');
    acknowledgeNagFindings(waiter, [{
      id: 'AwsSolutions-SF2',
      reason: 'The completion waiter only calls the handler on a timer; X-Ray traces would add cost and no insight beyond its logs.',
    }]);
    acknowledgeNagFindings(waiter.node.findChild('Role').node.findChild('DefaultPolicy'), [
      invokeVersionsOf(framework.findChild('framework-isComplete') as lambda.Function, framework.findChild('framework-onTimeout') as lambda.Function),
      wildcardResource('Step Functions log delivery (logs:CreateLogDelivery and related actions) has no resource type, so aws-cdk-lib grants it on "*".'),
    ]);
  }

  /**
   * Read-only calls the handler makes to tell a rollback from a deploy and to wait for a completion check
   * still running: `DescribeStacks` and `DescribeStackResource` on its own stack, and `ListExecutions` and
   * `DescribeExecution` on the framework's waiter. The waiter's logical id reaches the handler as a plain
   * string (its ARN would make the handler depend on the waiter, which depends on the handler), and the
   * waiter grants sit in a policy of their own for the same reason.
   */
  private grantStackReads(stack: Stack, waiter: IConstruct): void {
    const role = this.handler.role!;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'],
      resources: [stack.stackId],
    }));
    // A nested stack rolls back with its root: the handler reads the root's status too.
    const root = rootOf(stack);
    if (root !== stack) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [root.stackId] }));
    const machine = waiter.node.defaultChild as CfnResource;
    const waiterId = stack.getLogicalId(machine);
    this.handler.addEnvironment(WAITER_LOGICAL_ID_ENV, waiterId);
    const executions = stack.formatArn({
      service: 'states', resource: 'execution', resourceName: `${machine.getAtt('Name').toString()}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const reads = new iam.Policy(this, 'WaiterReads', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [machine.ref] }),
        new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
      ],
    });
    // As cdk-nag writes the resource: pseudo parameters as <AWS::...>, known region and account as they are.
    const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    acknowledgeNagFindings(reads, [{
      id: 'AwsSolutions-IAM5',
      reason: 'DescribeExecution is granted on the executions of the library\'s own waiter state machine only; their names are CloudFormation request ids, unknown until deploy time.',
      findings: [`Resource::arn:${shown(stack.partition, 'Partition')}:states:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:execution:<${waiterId}.Name>:*`],
    }]);
  }

  private batchSizeEnvironment(): Record<string, string> {
    const batchSize = this.node.tryGetContext(BATCH_SIZE_CONTEXT);
    if (batchSize === undefined) return {};
    // Only a number (cdk.json) or a string of decimal digits (`-c key=25`): Number() alone would also
    // accept true (1), [5], '0x10' and '1e1'.
    const value = typeof batchSize === 'number' ? batchSize
      : typeof batchSize === 'string' && /^\d+$/.test(batchSize.trim()) ? Number(batchSize) : NaN;
    if (!Number.isInteger(value) || value < 1 || value > 100) {
      throw new Error(`Context ${BATCH_SIZE_CONTEXT}=${JSON.stringify(batchSize)} must be an integer from 1 to 100.`);
    }
    return { BATCH_SIZE: String(value) };
  }
}
