/**
 * Lambda "containers" for the bundled handler asset: each is a real Node process that `require`s
 * assets/phone-numbers-handler/index.js, as the Lambda runtime does, and answers one invocation at a
 * time over IPC. Under jest the driver's in-process loading of the asset goes through jest's module
 * registry, whose VM context refuses the SDK's dynamic `import('node:http')`; a child process avoids
 * that and is also what Lambda does. An idle container is reused (a warm start); concurrent
 * invocations (the driver's `parallel` order) get their own containers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { CustomResourceHandler, CustomResourceResponse, PHONE_NUMBERS_HANDLER_ASSET } from '../local-deploy';

/** Environment variables a Lambda container of the handler sees (from the template, the driver or the runtime). */
const FORWARDED_ENV = /^(AWS_|BATCH_SIZE$|CONCURRENCY$|NUMBER_ATTEMPTS$|LOG_LEVEL$)/;

const CONTAINER_SOURCE = `
let handler;
process.on('message', async ({ id, asset, event, env, remainingMs }) => {
  for (const name of Object.keys(process.env)) if (${FORWARDED_ENV}.test(name) && !(name in env)) delete process.env[name];
  Object.assign(process.env, env);
  const deadline = Date.now() + remainingMs;
  try {
    handler ??= require(asset).handler;
    const result = await handler(event, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) });
    process.send({ id, ok: true, result: result ?? null });
  } catch (error) {
    process.send({ id, ok: false, message: error && error.message || String(error), name: error && error.name });
  }
});
`;

interface Container {
  readonly child: ChildProcess;
  busy: boolean;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: CustomResourceResponse;
  readonly message?: string;
  readonly name?: string;
}

export class HandlerContainers {
  private readonly containers: Container[] = [];
  private nextId = 0;

  /** The handler's log lines (stdout), when the containers were started with `pipe`. */
  public readonly output: string[] = [];

  /** @param logs 'inherit' to see the handler's log lines (FUZZ_HANDLER_LOGS=1), 'pipe' to collect them in `output`. */
  constructor(private readonly logs: 'inherit' | 'ignore' | 'pipe' = process.env.FUZZ_HANDLER_LOGS === '1' ? 'inherit' : 'ignore') {}

  public readonly handler: CustomResourceHandler = async (event, context) => this.invoke(event, context);

  /** Ends every container (the next invocation is a cold start). */
  public async shutdown(): Promise<void> {
    const all = this.containers.splice(0);
    await Promise.all(all.map(({ child }) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    })));
  }

  private async invoke(event: CloudFormationCustomResourceEvent, context: Context): Promise<CustomResourceResponse> {
    const container = this.containers.find((c) => !c.busy && c.child.connected) ?? this.start();
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
        container.child.send({ id, asset: PHONE_NUMBERS_HANDLER_ASSET, event, env, remainingMs: context.getRemainingTimeInMillis() });
      });
    } finally {
      container.busy = false;
    }
  }

  private start(): Container {
    const child = spawn(process.execPath, ['--no-warnings', '-e', CONTAINER_SOURCE], { stdio: ['ignore', this.logs, this.logs, 'ipc'] });
    if (this.logs === 'pipe') {
      let pending = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        this.output.push(...lines.filter((line) => line.length > 0));
      });
      child.stderr?.resume();
    }
    const container: Container = { child, busy: false };
    this.containers.push(container);
    return container;
  }
}
