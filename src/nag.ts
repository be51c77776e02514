import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** A cdk-nag finding this library has reviewed and accepts, with the reason users will read. */
export interface NagAcknowledgement {
  readonly id: string;
  readonly reason: string;
  /** Only these parts of the finding (a literal or a `{ regex: '/.../' }`), so new wildcards still surface. */
  readonly appliesTo?: ReadonlyArray<string | { readonly regex: string }>;
}

/**
 * Records acknowledgements as `cdk_nag` metadata on the construct's CloudFormation resource: the form
 * cdk-nag reads, without making cdk-nag a dependency of the library.
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
      ...acknowledgements.map((a) => ({ id: a.id, reason: a.reason, ...(a.appliesTo ? { applies_to: a.appliesTo } : {}) })),
    ],
  });
}

/** The Provider framework grants invoke on `<function>.Arn:*` (every version); it cannot be narrowed from outside. */
export const INVOKE_VERSIONS: NagAcknowledgement = {
  id: 'AwsSolutions-IAM5',
  reason: 'The CDK Provider framework grants lambda:InvokeFunction on every version of its own handler function (<arn>:*).',
  appliesTo: [{ regex: '/^Resource::<[A-Za-z0-9]+\\.Arn>:\\*$/' }],
};

/**
 * The framework functions' runtime is chosen by aws-cdk-lib, per region (a CloudFormation mapping that
 * cdk-nag cannot evaluate when the region is unknown), and is not configurable from outside.
 */
export const FRAMEWORK_RUNTIME: readonly NagAcknowledgement[] = [
  {
    id: 'CdkNagValidationFailure',
    reason: 'The Provider framework functions take the Node.js runtime that aws-cdk-lib maps for the region; cdk-nag cannot resolve the mapping.',
    appliesTo: ['AwsSolutions-L1'],
  },
  {
    id: 'AwsSolutions-L1',
    reason: 'The Provider framework functions run the Node.js runtime that aws-cdk-lib chooses for them; it moves with aws-cdk-lib and cannot be set here.',
  },
];
