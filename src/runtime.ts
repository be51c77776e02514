import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as cr from 'aws-cdk-lib/custom-resources';

/**
 * The Lambda runtime of every function this library synthesizes, the Provider framework's included.
 *
 * `nodejs24.x`: Lambda stopped creating `nodejs20.x` functions on 2026-08-31 and deprecates `nodejs22.x` on
 * 2027-04-30; `nodejs24.x` is supported into 2028. aws-cdk-lib added `Runtime.NODEJS_24_X` after this
 * library's floor (2.193.0), so on older releases the same runtime is declared by name, which Lambda
 * accepts all the same.
 */
export const NODEJS_RUNTIME: lambda.Runtime =
  (lambda.Runtime as unknown as Record<string, lambda.Runtime | undefined>).NODEJS_24_X
  ?? new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

/**
 * Pins what aws-cdk-lib would otherwise choose, differently from one release to the next, for the Provider
 * framework's own functions (onEvent, isComplete, onTimeout):
 *
 * - Runtime `NODEJS_RUNTIME`. Left to aws-cdk-lib it depends on the release and the stack's region:
 *   `nodejs20.x` in commercial regions before 2.197, `nodejs18.x` in isolated or unknown regions for much
 *   longer, and a `Fn::FindInMap` over a per-region table in region-agnostic stacks; Lambda refuses to
 *   create the first two. The framework's handlers are async functions on the SDK v3 that the Node.js
 *   runtimes ship, so they run unchanged on Node.js 24.
 * - Logs as JSON at level ERROR. Releases up to about 2.2xx log every event in text (each carries the full
 *   property lists), newer ones only FATAL, which hides a refused Step Functions execution or a failed
 *   invoke. ERROR keeps those and drops the per-event chatter that the handler's own log already has.
 *
 * Both are set on the CloudFormation resource itself, which no aws-cdk-lib release overrides afterwards.
 */
export function pinFrameworkFunctions(provider: cr.Provider): void {
  for (const child of provider.node.children) {
    if (child instanceof lambda.Function) {
      const cfn = child.node.defaultChild as lambda.CfnFunction;
      cfn.runtime = NODEJS_RUNTIME.name;
      cfn.addPropertyOverride('LoggingConfig.LogFormat', 'JSON');
      cfn.addPropertyOverride('LoggingConfig.ApplicationLogLevel', 'ERROR');
    }
  }
}
