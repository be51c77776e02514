/**
 * The read-only slice of CloudFormation and Step Functions that the handlers call on their own stack and
 * the Provider framework's waiter, served over HTTP from the local driver's state: DescribeStacks,
 * DescribeStackResource, ListStackResources and GetTemplate (query protocol, XML), and ListExecutions and
 * DescribeExecution (JSON 1.0). The handler reaches it through AWS_ENDPOINT_URL_CLOUDFORMATION and
 * AWS_ENDPOINT_URL_SFN, as it would reach AWS. Requests are not signature-checked. Each answer is what
 * the driver knows at that moment: the status of the phase it is in, and each logical id's current
 * physical id, so a handler sees a deploy, its cleanup and a rollback as CloudFormation shows them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ControlPlaneStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  readonly template: unknown;
  /** Logical id -> physical id and type, as CloudFormation holds them now. */
  readonly resources: ReadonlyMap<string, { readonly physicalId: string; readonly type: string }>;
  /** Parameter values as DescribeStacks shows them (NoEcho ones masked). */
  readonly parameters?: Readonly<Record<string, string>>;
}

export interface ControlPlaneExecution {
  readonly name: string;
  readonly stateMachineArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly input: string;
  readonly startDate: number;
}

export interface ControlPlaneSource {
  /** A stack by name or id. */
  stack(nameOrId: string): ControlPlaneStack | undefined;
  executions(stateMachineArn: string): readonly ControlPlaneExecution[];
}

/** What the handlers asked, for tests that count calls. */
export interface ControlPlaneCall {
  readonly service: 'cloudformation' | 'states';
  readonly action: string;
}

export class ControlPlaneServer {
  public readonly calls: ControlPlaneCall[] = [];
  private server?: Server;
  private url?: string;

  constructor(private readonly source: ControlPlaneSource) {}

  /** The endpoint, starting the server on first use. */
  public async endpoint(): Promise<string> {
    if (this.url) return this.url;
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    // A driver nobody closed must not keep the test process alive.
    this.server.unref();
    this.server.on('connection', (socket) => socket.unref());
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  public async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('AWSStepFunctions.')) {
      this.states(target.slice('AWSStepFunctions.'.length), body ? JSON.parse(body) : {}, res);
    } else {
      this.cloudformation(Object.fromEntries(new URLSearchParams(body)), res);
    }
  }

  private cloudformation(params: Record<string, string>, res: ServerResponse): void {
    const action = params.Action;
    this.calls.push({ service: 'cloudformation', action });
    const stack = this.source.stack(params.StackName ?? '');
    if (!stack) return xmlError(res, 400, 'ValidationError', `Stack with id ${params.StackName} does not exist`);
    switch (action) {
      case 'DescribeStacks':
        return xml(res, action, `<Stacks><member><StackName>${esc(stack.stackName)}</StackName><StackId>${esc(stack.stackId)}</StackId>` +
          `<StackStatus>${stack.status}</StackStatus><Parameters>${Object.entries(stack.parameters ?? {}).map(([key, value]) =>
            `<member><ParameterKey>${esc(key)}</ParameterKey><ParameterValue>${esc(value)}</ParameterValue></member>`).join('')}</Parameters>` +
          '</member></Stacks>');
      case 'DescribeStackResource': {
        const resource = stack.resources.get(params.LogicalResourceId);
        if (!resource) return xmlError(res, 400, 'ValidationError', `Resource ${params.LogicalResourceId} does not exist for stack ${stack.stackName}`);
        return xml(res, action, `<StackResourceDetail><LogicalResourceId>${esc(params.LogicalResourceId)}</LogicalResourceId>` +
          `<PhysicalResourceId>${esc(resource.physicalId)}</PhysicalResourceId><ResourceType>${esc(resource.type)}</ResourceType></StackResourceDetail>`);
      }
      case 'ListStackResources':
        return xml(res, action, `<StackResourceSummaries>${[...stack.resources].map(([id, r]) => `<member><LogicalResourceId>${esc(id)}</LogicalResourceId>` +
          `<PhysicalResourceId>${esc(r.physicalId)}</PhysicalResourceId><ResourceType>${esc(r.type)}</ResourceType></member>`).join('')}</StackResourceSummaries>`);
      case 'GetTemplate':
        return xml(res, action, `<TemplateBody>${esc(JSON.stringify(stack.template))}</TemplateBody>`);
      default:
        return xmlError(res, 400, 'InvalidAction', `${action} is not served by the local control plane`);
    }
  }

  private states(action: string, input: Record<string, unknown>, res: ServerResponse): void {
    this.calls.push({ service: 'states', action });
    if (action === 'ListExecutions') {
      const arn = String(input.stateMachineArn);
      const filter = input.statusFilter as string | undefined;
      const all = [...this.source.executions(arn)].filter((e) => !filter || e.status === filter).sort((a, b) => b.startDate - a.startDate);
      const start = Number(input.nextToken ?? 0);
      const max = Number(input.maxResults ?? 100) || 100;
      const page = all.slice(start, start + max);
      return json(res, 200, {
        executions: page.map((e) => ({
          executionArn: executionArn(e), stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: e.startDate / 1000,
        })),
        ...(start + max < all.length ? { nextToken: String(start + max) } : {}),
      });
    }
    if (action === 'DescribeExecution') {
      const arn = String(input.executionArn);
      const machine = arn.replace(':execution:', ':stateMachine:').split(':').slice(0, 7).join(':');
      const found = this.source.executions(machine).find((e) => executionArn(e) === arn);
      if (!found) return json(res, 400, { __type: 'com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist', message: `Execution Does Not Exist: '${arn}'` });
      return json(res, 200, {
        executionArn: arn,
        stateMachineArn: found.stateMachineArn,
        name: found.name,
        status: found.status,
        input: found.input,
        startDate: found.startDate / 1000,
      });
    }
    return json(res, 400, { __type: 'UnknownOperationException', message: `${action} is not served by the local control plane` });
  }
}

export function executionArn(e: Pick<ControlPlaneExecution, 'stateMachineArn' | 'name'>): string {
  return `${e.stateMachineArn.replace(':stateMachine:', ':execution:')}:${e.name}`;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xml(res: ServerResponse, action: string, result: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/xml');
  res.end(`<${action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><${action}Result>${result}</${action}Result></${action}Response>`);
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/xml');
  res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error></ErrorResponse>`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/x-amz-json-1.0');
  res.end(JSON.stringify(body));
}
