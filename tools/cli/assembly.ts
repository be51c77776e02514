import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './args';
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

/**
 * The stacks named with --stack (each must exist, by its CloudFormation stack name), or every stack of the
 * app: a stack that no longer uses the library may still hold deployed bindings that its next deploy removes.
 */
export function selectStacks(stacks: readonly StackTemplate[], names: readonly string[], app: string): StackTemplate[] {
  if (stacks.length === 0) throw new UsageError(`${app} holds no stack`);
  if (names.length === 0) return [...stacks];
  return names.map((name) => {
    const found = stacks.find((s) => s.stackName === name);
    if (!found) throw new UsageError(`stack '${name}' is not in ${app}; its stacks are: ${stacks.map((s) => s.stackName).join(', ') || 'none'}`);
    return found;
  });
}

/** The stacks in an order that deploys each after the stacks it depends on (`cdk deploy --all`'s order). */
export function dependencyOrder(stacks: readonly StackTemplate[]): StackTemplate[] {
  const byName = new Map(stacks.map((s) => [s.stackName, s]));
  const done = new Set<string>();
  const ordered: StackTemplate[] = [];
  const visit = (stack: StackTemplate, chain: readonly string[]) => {
    if (done.has(stack.stackName)) return;
    if (chain.includes(stack.stackName)) throw new UsageError(`the stacks depend on each other in a cycle: ${[...chain, stack.stackName].join(' -> ')}`);
    for (const dependency of stack.dependsOn ?? []) {
      const found = byName.get(dependency);
      if (found) visit(found, [...chain, stack.stackName]);
    }
    done.add(stack.stackName);
    ordered.push(stack);
  };
  for (const stack of stacks) visit(stack, []);
  return ordered;
}
