import * as fs from 'node:fs';
import * as path from 'node:path';
import { referencedResources } from './intrinsics';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Condition?: string;
}

export interface CfnParameter {
  readonly Type?: string;
  readonly Default?: unknown;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

/** One stack of a synthesized app. */
export interface StackTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** The stack's region, when the cloud assembly names one (environment-agnostic stacks have none). */
  readonly region?: string;
  /** Names of the stacks of the same cloud assembly that this one depends on (deployed first, deleted last). */
  readonly dependsOn?: readonly string[];
}


interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly dependencies?: readonly string[];
  readonly displayName?: string;
  readonly properties?: { templateFile?: string; stackName?: string; directoryName?: string };
}

/** Stack templates of a cdk.out directory, including those of nested assemblies (stages). */
export function readCloudAssembly(directory: string): StackTemplate[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const stacks: StackTemplate[] = [];
  const artifacts = manifest.artifacts ?? {};
  const stackNameOf = (id: string) => artifacts[id]?.type === 'aws:cloudformation:stack' ? artifacts[id].properties?.stackName ?? id : undefined;
  for (const [id, artifact] of Object.entries(artifacts)) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      const region = /^aws:\/\/[^/]*\/(.+)$/.exec(artifact.environment ?? '')?.[1];
      const dependsOn = (artifact.dependencies ?? []).map(stackNameOf).filter((name): name is string => name !== undefined);
      stacks.push({
        stackName: artifact.properties.stackName ?? id,
        template: JSON.parse(fs.readFileSync(path.join(directory, artifact.properties.templateFile), 'utf8')),
        ...(region && region !== 'unknown-region' ? { region } : {}),
        ...(dependsOn.length > 0 ? { dependsOn } : {}),
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      stacks.push(...readCloudAssembly(path.join(directory, artifact.properties.directoryName)));
    }
  }
  return stacks;
}

export function resourcesOf(template: CfnTemplate | undefined): Record<string, CfnResource> {
  return template?.Resources ?? {};
}

/** logical id -> logical ids it waits for: `DependsOn` plus every `Ref`/`Fn::GetAtt`/`Fn::Sub` reference. */
export function dependencyGraph(template: CfnTemplate | undefined): Map<string, Set<string>> {
  const resources = resourcesOf(template);
  const graph = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const explicit = resource.DependsOn === undefined ? [] : ([] as string[]).concat(resource.DependsOn);
    const deps = new Set([...explicit, ...referencedResources(resource.Properties)].filter((dep) => dep in resources && dep !== id));
    graph.set(id, deps);
  }
  return graph;
}

export function reverseGraph(graph: ReadonlyMap<string, ReadonlySet<string>>): Map<string, Set<string>> {
  const reversed = new Map<string, Set<string>>();
  for (const id of graph.keys()) reversed.set(id, new Set());
  for (const [id, deps] of graph) {
    for (const dep of deps) reversed.get(dep)?.add(id);
  }
  return reversed;
}

/** A cycle, as the list of logical ids on it, or undefined. */
export function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...trail.slice(trail.indexOf(id)), id];
    state.set(id, 'visiting');
    trail.push(id);
    for (const dep of graph.get(id) ?? []) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of graph.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** `RetainExceptOnCreate` retains like `Retain` except when the stack operation that created the resource rolls back. */
export function isRetained(policy: string | undefined, rollingBackItsCreation = false): boolean {
  return policy === 'Retain' || (policy === 'RetainExceptOnCreate' && !rollingBackItsCreation);
}
