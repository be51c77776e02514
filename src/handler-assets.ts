import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { logLevelEnvironment, type ProviderLogGroups } from './handler-settings';
import { acknowledgeNagFindings, wildcardResource } from './nag';
import { NODEJS_RUNTIME } from './runtime';

/** The handler bundles the build writes to `assets/`: beside `lib/` in the package, beside `src/` in the repository. */
export type HandlerAsset = 'phone-numbers-handler' | 'drift-check-handler' | 'voice-connector-group-handler';

/** Code of a bundled handler, with a clear error when the bundle was never built. */
export function bundledHandlerCode(asset: HandlerAsset): lambda.Code {
  const directory = path.join(__dirname, '..', 'assets', asset);
  if (!fs.existsSync(path.join(directory, 'index.js'))) {
    throw new Error(
      `The bundled handler is missing at ${directory}. In a clone of the repository, run 'npx projen bundle' ` +
      '(or any build or test task); an installed package ships it, so reinstall cdk-chime-voice-connector-groups.',
    );
  }
  return lambda.Code.fromAsset(directory);
}

export interface BundledFunctionProps {
  readonly asset: HandlerAsset;
  /** Ids of the role, function and log group under the scope. */
  readonly ids: { readonly role: string; readonly function: string; readonly logGroup: string };
  readonly description: string;
  readonly roleDescription: string;
  /** Chime SDK Voice actions, granted on `*` (none of them has an IAM resource type). */
  readonly chimeActions: readonly string[];
  /** Why `*` is the narrowest grant for `chimeActions`, for cdk-nag. */
  readonly wildcardReason: string;
  readonly timeout: Duration;
  readonly logs: ProviderLogGroups;
  readonly environment?: Record<string, string>;
}

/**
 * One function of this library from its bundled asset, with its own role (no managed policy) and log
 * group: the shape every handler here shares. Node.js 24 on arm64 with 256 MB, ample for work that waits
 * on the network.
 */
export function bundledFunction(scope: Construct, props: BundledFunctionProps): { readonly fn: lambda.Function; readonly role: iam.Role } {
  const logGroup = props.logs.logGroup(props.ids.logGroup);
  const role = new iam.Role(scope, props.ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.roleDescription,
  });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...props.chimeActions], resources: ['*'] }));
  logGroup.grantWrite(role);
  const fn = new lambda.Function(scope, props.ids.function, {
    description: props.description,
    runtime: NODEJS_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    code: bundledHandlerCode(props.asset),
    handler: 'index.handler',
    role,
    logGroup,
    memorySize: 256,
    timeout: props.timeout,
    environment: { ...props.environment, ...logLevelEnvironment(Stack.of(scope)) },
  });
  acknowledgeNagFindings(role.node.findChild('DefaultPolicy'), [wildcardResource(props.wildcardReason)]);
  return { fn, role };
}
