import * as cdk from 'aws-cdk-lib';
import { CfnResource, Stack, type CfnElement } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** A cdk-nag finding this library has reviewed and accepts, with the reason users will read. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
  /**
   * Only these findings of the rule (such as `Resource::*`), so that a new wildcard on the same resource
   * still surfaces. Absent for rules that report one finding per resource.
   */
  readonly findings?: readonly string[];
}

/**
 * The part of aws-cdk-lib's `Validations` API that cdk-nag 3 reads acknowledgements from. aws-cdk-lib added
 * it long after this library's floor, so it is looked up at run time rather than imported.
 */
interface ValidationsApi {
  of(scope: IConstruct): { acknowledge?: (...rules: Array<{ id: string; reason: string }>) => void };
}

/**
 * Records acknowledgements on the construct's CloudFormation resource in both forms cdk-nag reads, so the
 * library depends on neither major:
 * - cdk-nag 2 (an Aspect) reads `cdk_nag` metadata, with `applies_to` narrowing a rule to its findings;
 * - cdk-nag 3 (a Validations plugin) reads aws-cdk-lib's `Validations.of(construct).acknowledge()`, one
 *   entry per finding, written `RuleId[finding]`. Recorded only where aws-cdk-lib has that API.
 */
export function acknowledgeNagFindings(scope: IConstruct, acknowledgements: readonly NagAcknowledgement[]): void {
  const resource = scope instanceof CfnResource ? scope : scope.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`internal: ${scope.node.path} has no CloudFormation resource to acknowledge cdk-nag findings on`);
  }
  const existing = (resource.getMetadata('cdk_nag') as { rules_to_suppress?: unknown[] } | undefined)?.rules_to_suppress ?? [];
  resource.addMetadata('cdk_nag', {
    rules_to_suppress: [
      ...existing,
      ...acknowledgements.map((a) => ({ id: a.id, reason: a.reason, ...(a.findings ? { applies_to: [...a.findings] } : {}) })),
    ],
  });

  const validations = (cdk as unknown as { Validations?: ValidationsApi }).Validations?.of(resource);
  if (typeof validations?.acknowledge !== 'function') return;
  validations.acknowledge(...acknowledgements.flatMap((a) => (a.findings ?? [undefined]).map((finding) => ({
    id: finding === undefined ? a.id : `${a.id}[${finding}]`,
    reason: a.reason,
  }))));
}

/**
 * The Provider framework grants `lambda:InvokeFunction` on every version of the functions it calls
 * (`<arn>:*`); that grant is made inside aws-cdk-lib and cannot be narrowed from outside. Acknowledged per
 * function, by its logical id, so a grant on any other function still surfaces.
 */
export function invokeVersionsOf(...functions: lambda.IFunction[]): NagAcknowledgement {
  return {
    id: 'AwsSolutions-IAM5',
    reason: 'The CDK Provider framework grants lambda:InvokeFunction on every version (<arn>:*) of the functions it calls; aws-cdk-lib makes that grant and it cannot be narrowed.',
    findings: functions.map((fn) => {
      const cfn = fn.node.defaultChild as CfnElement;
      return `Resource::<${Stack.of(cfn).getLogicalId(cfn)}.Arn>:*`;
    }),
  };
}

/** `Resource: "*"` on a role whose actions have no IAM resource type. */
export function wildcardResource(reason: string): NagAcknowledgement {
  return { id: 'AwsSolutions-IAM5', reason, findings: ['Resource::*'] };
}
