/**
 * How the driver picks among resources that do not depend on each other. CloudFormation runs them in
 * parallel, so a handler must not rely on any one order: `reverse` flips the tie-breaking of
 * `topological`, and `parallel` starts every ready resource at once.
 */
export type Order = 'topological' | 'reverse' | 'parallel';

export interface GraphRun {
  readonly succeeded: ReadonlySet<string>;
  readonly failed: ReadonlySet<string>;
  /** Never started: blocked behind a failure, or left when the run stopped. */
  readonly notRun: ReadonlySet<string>;
  /** Still running when the run gave up on them (`abandonOnFailure`), with their tasks. */
  readonly abandoned: ReadonlyMap<string, Promise<boolean>>;
}

/**
 * Runs `task` for each node once every node it depends on has succeeded. `nodes` is the tie-breaking
 * preference. With `stopOnFailure` (a deploy) nothing new starts after a failure, but tasks already
 * running finish; without it (deletes) only what depends on a failed node is held back.
 */
export async function runInOrder(
  nodes: readonly string[],
  dependencies: ReadonlyMap<string, ReadonlySet<string>>,
  order: Order,
  stopOnFailure: boolean,
  task: (node: string) => Promise<boolean>,
  abandonOnFailure = false,
): Promise<GraphRun> {
  const pending = new Set(nodes);
  const succeeded = new Set<string>();
  const failed = new Set<string>();
  const depsOf = (node: string) => [...(dependencies.get(node) ?? [])].filter((dep) => nodes.includes(dep));
  const ready = (node: string) => pending.has(node) && depsOf(node).every((dep) => succeeded.has(dep));
  const halted = () => stopOnFailure && failed.size > 0;
  const record = (node: string, ok: boolean) => (ok ? succeeded : failed).add(node);
  const inFlight = new Map<string, Promise<boolean>>();

  if (order !== 'parallel') {
    const preference = order === 'reverse' ? [...nodes].reverse() : nodes;
    for (let next = preference.find(ready); next !== undefined && !halted(); next = preference.find(ready)) {
      pending.delete(next);
      record(next, await task(next));
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      const pump = () => {
        for (const node of halted() ? [] : nodes.filter(ready)) {
          pending.delete(node);
          const running = task(node);
          inFlight.set(node, running);
          running.then((ok) => {
            inFlight.delete(node);
            record(node, ok);
            pump();
          }, reject);
        }
        // With abandonOnFailure, a failure ends the run at once: what still runs is handed back, abandoned.
        if (inFlight.size === 0 || (abandonOnFailure && halted())) resolve();
      };
      pump();
    });
  }
  const abandoned = abandonOnFailure ? new Map(inFlight) : new Map<string, Promise<boolean>>();
  return { succeeded, failed, notRun: pending, abandoned };
}
