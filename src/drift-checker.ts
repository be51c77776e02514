import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { bundledHandlerCode } from './handler-assets';
import { logLevelEnvironment, ProviderLogGroups } from './handler-settings';
import { acknowledgeNagFindings } from './nag';

/** What the drift check reads: the group's numbers, and the owner of each declared number it finds missing. */
export const DRIFT_CHECK_READ_ACTIONS: readonly string[] = ['chime:ListPhoneNumbers', 'chime:GetPhoneNumber'];
/** Added only when a construct of the stack asks for repair. */
export const DRIFT_CHECK_REPAIR_ACTIONS: readonly string[] = [
  'chime:AssociatePhoneNumbersWithVoiceConnectorGroup',
  'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup',
];

/**
 * The stack-wide function behind every scheduled drift check: the same bundled handler asset as the
 * binding resources (it answers events carrying `DriftCheck`), in its own function with its own role, so
 * that a read-only check holds no write permission.
 */
export class DriftChecker extends Construct {
  public static readonly ID = 'VoiceConnectorGroupDriftChecker';

  public static getOrCreate(stack: Stack): DriftChecker {
    const existing = stack.node.tryFindChild(DriftChecker.ID) as DriftChecker | undefined;
    return existing ?? new DriftChecker(stack, DriftChecker.ID);
  }

  public readonly function: lambda.Function;
  private readonly role: iam.Role;
  private repairGranted = false;

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    const logGroup = new ProviderLogGroups(this).logGroup('Logs');
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Scheduled drift check of Chime SDK Voice phone-number bindings for cdk-chime-voice-connector-groups',
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...DRIFT_CHECK_READ_ACTIONS], resources: ['*'] }));
    // The declared numbers are read from this stack's own deployed template, and only this stack's.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:GetTemplate'], resources: [scope.stackId] }));
    logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, 'Function', {
      description: 'cdk-chime-voice-connector-groups: scheduled drift check of voice connector group phone numbers',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code: bundledHandlerCode('phone-numbers-handler'),
      handler: 'index.handler',
      role: this.role,
      logGroup,
      memorySize: 256,
      // Listing 5,000 numbers is 50 calls; a repair of thousands of numbers gets the rest. The next
      // check picks up whatever one run leaves.
      timeout: Duration.minutes(10),
      environment: logLevelEnvironment(scope),
    });

    acknowledgeNagFindings(this.role.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: 'Chime SDK Voice phone-number actions (ListPhoneNumbers, GetPhoneNumber, group association) have no resource type: "*" is the narrowest grant IAM allows.',
      appliesTo: ['Resource::*'],
    }]);
  }

  /** Grants the association calls a repair makes (once per stack, on the first construct that repairs). */
  public grantRepair(): void {
    if (this.repairGranted) return;
    this.repairGranted = true;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...DRIFT_CHECK_REPAIR_ACTIONS], resources: ['*'] }));
  }
}
