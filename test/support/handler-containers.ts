/**
 * Lambda "containers" for the bundled handler asset, shared by the e2e tests, the fuzzer and the
 * bad-inputs catalogue. Under jest, the driver's in-process loading of the asset goes through jest's
 * module registry, whose VM context refuses the dynamic `import('node:http')` the SDK's HTTP handler
 * makes, so every call would fail. Each container here is a real Node process that `require`s the asset,
 * as the Lambda runtime does, and answers one invocation at a time over IPC: concurrent invocations (the
 * driver's `parallel` order) get separate containers, an idle one is reused (a warm start), and
 * `shutdown()` ends them all (the next invocation is a cold start).
 */
import { ChildProcess, spawn } from 'node:child_process';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { CustomResourceHandler, CustomResourceResponse, DRIFT_CHECK_HANDLER_ASSET, PHONE_NUMBERS_HANDLER_ASSET } from '../../tools/local-deploy';

/** Environment variables a Lambda container of the handler sees (from the template, the driver or the runtime). */
const FORWARDED_ENV = /^(AWS_|BATCH_SIZE$|CONCURRENCY$|NUMBER_ATTEMPTS$|LOG_LEVEL$|WAITER_LOGICAL_ID$)/;

/**
 * Runs inside each container process. The environment is replaced per invocation because the driver sets
 * it per deploy; a container exits with its parent (the IPC channel closes) so none outlives a killed run.
 */
const CONTAINER_SOURCE = `
let handler;
process.on('disconnect', () => process.exit(0));
process.on('message', async ({ id, asset, event, env, remainingMs }) => {
  for (const name of Object.keys(process.env)) if (${FORWARDED_ENV}.test(name) && !(name in env)) delete process.env[name];
  Object.assign(process.env, env);
  const deadline = Date.now() + remainingMs;
  try {
    handler ??= require(asset).handler;
    const result = await handler(event, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) });
    process.send({ id, ok: true, result: result ?? null });
  } catch (error) {
    process.send({ id, ok: false, message: error && error.message || String(error), name: error && error.name, stack: error && error.stack });
  }
});
`;

interface Container {
  readonly child: ChildProcess;
  /** The bundled asset this container loaded: a container serves one handler, as a Lambda container does. */
  readonly asset: string;
  busy: boolean;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: CustomResourceResponse;
  readonly message?: string;
  readonly name?: string;
  readonly stack?: string;
}

export interface HandlerContainersOptions {
  /** Show the handler's stdout and stderr in this process (to debug a failing run). Default false. */
  readonly echo?: boolean;
  /**
   * Keep every non-empty stdout line (the handler's JSON logs and EMF metric lines) in `output`, for
   * tests that assert on them. Off by default: a long fuzz run would hold every line.
   */
  readonly collect?: boolean;
}

export class HandlerContainers {
  private readonly containers: Container[] = [];
  private nextId = 0;

  /** The containers' stdout lines, when started with `collect`. */
  public readonly output: string[] = [];

  constructor(private readonly options: HandlerContainersOptions = {}) {}

  /** The driver handler for the phone-number binding handler's asset. */
  public readonly handler: CustomResourceHandler = async (event, context) => this.invoke(PHONE_NUMBERS_HANDLER_ASSET, event, context);

  /** The driver handler for any bundled asset (e.g. the voice connector group handler's). */
  public handlerFor(asset: string): CustomResourceHandler {
    return async (event, context) => this.invoke(asset, event, context);
  }

  /** Invokes a bundled handler (by default the scheduled drift check's) with any event. */
  public async invokeRaw(event: unknown, remainingMs = 60_000, asset = DRIFT_CHECK_HANDLER_ASSET): Promise<unknown> {
    const deadline = Date.now() + remainingMs;
    const context = { getRemainingTimeInMillis: () => deadline - Date.now() } as Context;
    return this.invoke(asset, event as CloudFormationCustomResourceEvent, context);
  }

  /** Ends every container (the next invocation is a cold start). */
  public async shutdown(): Promise<void> {
    const all = this.containers.splice(0);
    await Promise.all(all.map(({ child }) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    })));
  }

  private async invoke(asset: string, event: CloudFormationCustomResourceEvent, context: Context): Promise<CustomResourceResponse> {
    const container = this.containers.find((c) => !c.busy && c.asset === asset && c.child.connected) ?? this.start(asset);
    container.busy = true;
    const id = ++this.nextId;
    const env = Object.fromEntries(Object.entries(process.env).filter(([name, value]) => FORWARDED_ENV.test(name) && value !== undefined));
    try {
      return await new Promise<CustomResourceResponse>((resolve, reject) => {
        const onMessage = (message: Reply) => {
          if (message.id !== id) return;
          cleanup();
          if (message.ok) {
            resolve(message.result ?? {});
          } else {
            const error = new Error(message.message);
            if (message.name) error.name = message.name;
            // Lambda reports the thrown error's own stack (its trace), which the Provider framework puts in the reason.
            error.stack = message.stack ?? message.message;
            reject(error);
          }
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`the handler container exited (code ${code}) during the invocation`));
        };
        const cleanup = () => {
          container.child.off('message', onMessage);
          container.child.off('exit', onExit);
        };
        container.child.on('message', onMessage);
        container.child.once('exit', onExit);
        container.child.send({ id, asset, event, env, remainingMs: context.getRemainingTimeInMillis() });
      });
    } finally {
      container.busy = false;
    }
  }

  private start(asset: string): Container {
    const { echo = false, collect = false } = this.options;
    const shown = echo ? 'inherit' : 'ignore';
    // --no-warnings: Node's own warnings are not the handler's logs.
    const child = spawn(process.execPath, ['--no-warnings', '-e', CONTAINER_SOURCE], { stdio: ['ignore', collect ? 'pipe' : shown, shown, 'ipc'] });
    if (collect) {
      let partial = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        if (echo) process.stdout.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        this.output.push(...lines.filter((line) => line.length > 0));
      });
    }
    const container: Container = { child, asset, busy: false };
    this.containers.push(container);
    return container;
  }
}
