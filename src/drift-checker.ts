import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { bundledFunction } from './handler-assets';
import { ProviderLogGroups } from './handler-settings';

/** What the drift check reads: the group's numbers, and the owner of each declared number it finds missing. */
export const DRIFT_CHECK_READ_ACTIONS: readonly string[] = ['chime:ListPhoneNumbers', 'chime:GetPhoneNumber'];
/** Added only when a construct of the stack asks for repair. */
export const DRIFT_CHECK_REPAIR_ACTIONS: readonly string[] = [
  'chime:AssociatePhoneNumbersWithVoiceConnectorGroup',
  'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup',
];

/** The outermost stack of a nested stack (the stack itself when it is not nested). */
export function rootOf(stack: Stack): Stack {
  let current = stack;
  while (current.nestedStackParent) current = current.nestedStackParent;
  return current;
}

/**
 * The stack-wide function behind every scheduled drift check: the drift-check handler, with its own role, so that a
 * read-only check holds no write permission.
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
    const { fn, role } = bundledFunction(this, {
      asset: 'drift-check-handler',
      ids: { role: 'Role', function: 'Function', logGroup: 'Logs' },
      description: 'cdk-chime-voice-connector-groups: scheduled drift check of voice connector group phone numbers',
      roleDescription: 'Scheduled drift check of Chime SDK Voice phone-number bindings for cdk-chime-voice-connector-groups',
      chimeActions: DRIFT_CHECK_READ_ACTIONS,
      wildcardReason: 'Chime SDK Voice phone-number actions (ListPhoneNumbers, GetPhoneNumber, group association) have no resource type: "*" is the narrowest grant IAM allows.',
      // Listing 5,000 numbers is 50 calls; a repair of thousands of numbers gets the rest. The next
      // check picks up whatever one run leaves.
      timeout: Duration.minutes(10),
      logs: new ProviderLogGroups(this),
    });
    this.function = fn;
    this.role = role;
    // The declared numbers are read from this stack's own deployed template, and only this stack's; the
    // check also reads whether the stack (or its root, for a nested stack) is mid-deploy, and then waits.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:GetTemplate', 'cloudformation:DescribeStacks'],
      resources: [scope.stackId],
    }));
    const root = rootOf(scope);
    if (root !== scope) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [root.stackId] }));
    }
  }

  /** Grants the association calls a repair makes (once per stack, on the first construct that repairs). */
  public grantRepair(): void {
    if (this.repairGranted) return;
    this.repairGranted = true;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...DRIFT_CHECK_REPAIR_ACTIONS], resources: ['*'] }));
  }
}
