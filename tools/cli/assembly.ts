import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { GROUP_RESOURCE_TYPE } from '../../src/voice-connector-group-properties';
import { readCloudAssembly, type StackTemplate } from '../local-deploy/template';

/** The stacks of a synthesized app (`cdk synth`'s cdk.out), or a one-line error saying what is wrong. */
export function loadAssembly(app: string | undefined): StackTemplate[] {
  if (!app) throw new UsageError('--app is required: the cloud assembly directory `cdk synth` wrote (usually cdk.out)');
  const manifest = path.join(app, 'manifest.json');
  if (!fs.existsSync(manifest)) {
    throw new UsageError(`no cloud assembly at ${app} (${manifest} does not exist); run \`npx cdk synth\` first, or pass the directory it wrote with --app`);
  }
  try {
    return readCloudAssembly(app);
  } catch (error) {
    throw new UsageError(`cannot read the cloud assembly at ${app}: ${(error as Error).message}`);
  }
}

/** Whether a stack has any resource this library renders. */
export function usesLibrary(stack: StackTemplate): boolean {
  return Object.values(stack.template.Resources ?? {}).some((r) => r.Type === BINDING_RESOURCE_TYPE || r.Type === GROUP_RESOURCE_TYPE);
}

/**
 * The stacks named with --stack (each must exist, by its CloudFormation stack name), or every stack that
 * uses the library.
 */
export function selectStacks(stacks: readonly StackTemplate[], names: readonly string[], app: string): StackTemplate[] {
  if (names.length === 0) {
    const using = stacks.filter(usesLibrary);
    if (using.length === 0) {
      throw new UsageError(`no stack in ${app} declares phone numbers or groups of this library (stacks: ${stacks.map((s) => s.stackName).join(', ') || 'none'})`);
    }
    return using;
  }
  return names.map((name) => {
    const found = stacks.find((s) => s.stackName === name);
    if (!found) throw new UsageError(`stack '${name}' is not in ${app}; its stacks are: ${stacks.map((s) => s.stackName).join(', ') || 'none'}`);
    return found;
  });
}
