import { randomBytes, randomUUID } from 'node:crypto';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceUpdateEvent, Context } from 'aws-lambda';

export type RequestType = CloudFormationCustomResourceEvent['RequestType'];

/** The user `onEvent` handler of a CDK Provider: resolves with the response or throws to fail. */
export type CustomResourceHandler = (
  event: CloudFormationCustomResourceEvent,
  context: Context,
) => Promise<CustomResourceResponse | undefined | void>;

export interface CustomResourceResponse {
  readonly PhysicalResourceId?: string;
  readonly Data?: Record<string, unknown>;
  readonly NoEcho?: boolean;
}

/** What the Provider framework answers to CloudFormation after calling the handler. */
export type InvocationOutcome =
  | {
    readonly ok: true;
    readonly physicalResourceId: string;
    readonly data: Record<string, unknown>;
    /** The handler's whole answer: the Provider framework spreads it over the event it gives isComplete. */
    readonly response?: Record<string, unknown>;
  }
  | {
    readonly ok: false;
    readonly error: string;
    /**
     * Set when the failure came from the completion checks: onEvent had already answered a physical id,
     * so CloudFormation's rollback of a Create sends a Delete for it (no CREATE_FAILED marker).
     */
    readonly physicalResourceId?: string;
  };

export interface EventInput {
  readonly requestType: RequestType;
  readonly logicalResourceId: string;
  readonly resourceType: string;
  /** Stringified properties, including `ServiceToken`. */
  readonly properties: Record<string, unknown>;
  readonly oldProperties?: Record<string, unknown>;
  /** Required for Update and Delete. */
  readonly physicalResourceId?: string;
  readonly stackId?: string;
  readonly region?: string;
  readonly requestId?: string;
}

export interface InvocationOptions {
  readonly timeoutMs: number;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB?: number;
}

/** The physical id the CDK Provider framework answers for a failed Create; it ignores the Delete that follows. */
export const CREATE_FAILED_PHYSICAL_ID_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** CloudFormation rejects a custom-resource response body larger than this, SUCCESS or FAILED. */
export const MAX_RESPONSE_BYTES = 4096;

/** Step Functions' limit on an execution's input: the framework's waiter gets the event and onEvent's answer. */
export const MAX_WAITER_INPUT_BYTES = 262_144;

/** The largest custom-resource request (event) the driver passes on; CloudFormation's limit is undocumented, plan for this. */
export const MAX_REQUEST_BYTES = 262_144;

/** Step Functions caps an error cause at this many characters; the framework's onTimeout re-parses the event from it. */
export const MAX_ERROR_CAUSE_CHARS = 32_768;

/**
 * The FAILED response the Provider framework sends for an error of the user function: the message, a
 * "Logs:" line and the rest of the stack trace as the reason, and the event's physical id (a Create
 * without one gets the CREATE_FAILED marker). CloudFormation discards a body over 4,096 bytes, and the
 * resource then waits for its ServiceTimeout and fails without a reason: the driver reports that instead
 * of the message.
 */
export function failedResponse(event: Record<string, unknown>, error: { message: string; stack?: string }, functionName: string): string {
  const trace = (error.stack ?? error.message).split('\n');
  const message = [error.message, '', `Logs: /aws/lambda/${functionName}`, ''].join('\n');
  const reason = [message, ...trace.slice(1)].join('\n');
  const body = JSON.stringify({
    Status: 'FAILED',
    Reason: reason,
    StackId: event.StackId,
    RequestId: event.RequestId,
    PhysicalResourceId: event.PhysicalResourceId ?? (event.RequestType === 'Create' ? CREATE_FAILED_PHYSICAL_ID_MARKER : undefined),
    LogicalResourceId: event.LogicalResourceId,
    Data: event.Data,
  });
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_RESPONSE_BYTES) {
    return `CloudFormation discarded the FAILED response (${bytes} bytes; it accepts ${MAX_RESPONSE_BYTES}): no reason reaches the stack, ` +
      'and the resource fails only when its ServiceTimeout runs out';
  }
  return error.message;
}

export function stackIdFor(stackName: string, region = 'us-east-1', accountId = '123456789012'): string {
  return `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${randomUUID()}`;
}

export function buildEvent(input: EventInput): CloudFormationCustomResourceEvent {
  const region = input.region ?? 'us-east-1';
  const stackId = input.stackId ?? stackIdFor('LocalStack', region);
  const requestId = input.requestId ?? randomUUID();
  const serviceToken = input.properties.ServiceToken;
  if (typeof serviceToken !== 'string') {
    throw new Error(`${input.logicalResourceId}: ServiceToken must resolve to a string, got ${JSON.stringify(serviceToken)}`);
  }
  const common = {
    ServiceToken: serviceToken,
    ResponseURL: `https://cloudformation-custom-resource-response-${region.replace(/-/g, '')}.s3.amazonaws.com/`
      + `${encodeURIComponent(`${stackId}|${input.logicalResourceId}|${requestId}`)}?X-Amz-Signature=local`,
    StackId: stackId,
    RequestId: requestId,
    LogicalResourceId: input.logicalResourceId,
    ResourceType: input.resourceType,
    ResourceProperties: { ...input.properties, ServiceToken: serviceToken },
  };
  if (input.requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (input.physicalResourceId === undefined) throw new Error(`${input.requestType} of ${input.logicalResourceId} needs a physical resource id`);
  if (input.requestType === 'Delete') return { ...common, RequestType: 'Delete', PhysicalResourceId: input.physicalResourceId };
  if (input.oldProperties === undefined) throw new Error(`Update of ${input.logicalResourceId} needs the old properties`);
  return { ...common, RequestType: 'Update', PhysicalResourceId: input.physicalResourceId, OldResourceProperties: input.oldProperties as CloudFormationCustomResourceUpdateEvent['OldResourceProperties'] };
}

export function buildContext(options: InvocationOptions): Context {
  const deadline = Date.now() + options.timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  const callbackStyle = () => {
    throw new Error('callback-style completion is not available to async handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: options.invokedFunctionArn,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 128),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: callbackStyle,
    fail: callbackStyle,
    succeed: callbackStyle,
  };
}

function asError(error: unknown): { message: string; stack?: string } {
  return error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
}

/**
 * Invokes the handler the way the Provider framework does (through Lambda, so event and response are
 * JSON round-tripped) and applies the framework's and CloudFormation's checks on the answer.
 */
export async function invokeHandler(
  handler: CustomResourceHandler,
  event: CloudFormationCustomResourceEvent,
  options: InvocationOptions,
): Promise<InvocationOutcome> {
  if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_PHYSICAL_ID_MARKER) {
    return { ok: true, physicalResourceId: event.PhysicalResourceId, data: {} };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${(options.timeoutMs / 1000).toFixed(2)} seconds`)), options.timeoutMs);
  });
  let response: CustomResourceResponse;
  const requestBytes = Buffer.byteLength(JSON.stringify(event), 'utf8');
  if (requestBytes > MAX_REQUEST_BYTES) {
    clearTimeout(timer);
    return { ok: false, error: `the custom-resource request is ${requestBytes} bytes; over ${MAX_REQUEST_BYTES}, CloudFormation cannot deliver it` };
  }
  try {
    const payload = JSON.parse(JSON.stringify(event)) as CloudFormationCustomResourceEvent;
    const result = await Promise.race([handler(payload, buildContext(options)), timeout]);
    response = JSON.parse(JSON.stringify(result ?? {})) as CustomResourceResponse;
  } catch (error) {
    return { ok: false, error: failedResponse(event as unknown as Record<string, unknown>, asError(error), options.functionName) };
  } finally {
    clearTimeout(timer);
  }
  const physicalResourceId = response.PhysicalResourceId
    || (event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId);
  if (event.RequestType === 'Delete' && physicalResourceId !== event.PhysicalResourceId) {
    return {
      ok: false,
      error: `DELETE: cannot change the physical resource ID from "${event.PhysicalResourceId}" to "${response.PhysicalResourceId}" during deletion`,
    };
  }
  const data = response.Data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) return { ok: false, error: `Data must be an object, got ${JSON.stringify(data)}` };
  const body = JSON.stringify({
    Status: 'SUCCESS',
    Reason: 'SUCCESS',
    StackId: event.StackId,
    RequestId: event.RequestId,
    PhysicalResourceId: physicalResourceId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: response.NoEcho,
    Data: data,
  });
  if (Buffer.byteLength(body, 'utf8') > MAX_RESPONSE_BYTES) {
    return { ok: false, error: `Response object is too long (${Buffer.byteLength(body, 'utf8')} bytes; CloudFormation accepts ${MAX_RESPONSE_BYTES})` };
  }
  return { ok: true, physicalResourceId, data, response: response as Record<string, unknown> };
}

/** What an isComplete handler answers. */
export interface CompletionResponse {
  readonly IsComplete?: boolean;
  readonly Data?: Record<string, unknown>;
}

/**
 * The Provider framework's waiter: calls the isComplete handler with the event and onEvent's answer
 * until it reports completion, throws, or the total timeout passes (the framework then answers FAILED
 * with "Operation timed out", without calling the handler again).
 */
export async function awaitCompletion(
  handler: CustomResourceHandler,
  event: CloudFormationCustomResourceEvent,
  started: Extract<InvocationOutcome, { ok: true }>,
  options: InvocationOptions & { readonly queryIntervalMs: number; readonly totalTimeoutMs: number },
): Promise<InvocationOutcome> {
  const giveUpAt = Date.now() + options.totalTimeoutMs;
  const request = { ...event, ...started.response, PhysicalResourceId: started.physicalResourceId };
  const inputBytes = Buffer.byteLength(JSON.stringify(request), 'utf8');
  if (inputBytes > MAX_WAITER_INPUT_BYTES) {
    // The framework's onEvent fails to start the waiter, after the handler has done whatever it did.
    return {
      ok: false,
      error: `States.DataLimitExceeded: the waiter's input (the event and onEvent's answer) is ${inputBytes} bytes; Step Functions accepts ${MAX_WAITER_INPUT_BYTES}`,
      ...(event.RequestType === 'Create' ? {} : { physicalResourceId: started.physicalResourceId }),
    };
  }
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${(options.timeoutMs / 1000).toFixed(2)} seconds`)), options.timeoutMs);
    });
    let answer: CompletionResponse;
    try {
      const payload = JSON.parse(JSON.stringify(request)) as CloudFormationCustomResourceEvent;
      answer = JSON.parse(JSON.stringify((await Promise.race([handler(payload, buildContext(options)), timeout])) ?? {})) as CompletionResponse;
    } catch (error) {
      return {
        ok: false,
        error: failedResponse(request as unknown as Record<string, unknown>, asError(error), options.functionName),
        physicalResourceId: started.physicalResourceId,
      };
    } finally {
      clearTimeout(timer);
    }
    if (answer.IsComplete) {
      return { ok: true, physicalResourceId: started.physicalResourceId, data: { ...started.data, ...answer.Data }, response: started.response };
    }
    if (answer.Data && Object.keys(answer.Data).length > 0) {
      return { ok: false, error: '"Data" is not allowed if "IsComplete" is "False"', physicalResourceId: started.physicalResourceId };
    }
    if (Date.now() + options.queryIntervalMs >= giveUpAt) {
      // The framework's onTimeout re-reads the event from the error's cause, which Step Functions cuts at
      // 32,768 characters: a larger event cannot be parsed, and no response is ever sent.
      const cause = JSON.stringify({ errorMessage: JSON.stringify(request) });
      if (cause.length > MAX_ERROR_CAUSE_CHARS) {
        return {
          ok: false,
          error: `the waiter timed out and its onTimeout could not re-read the event (${cause.length} characters; Step Functions keeps ${MAX_ERROR_CAUSE_CHARS}): ` +
            'no response is sent, and the resource fails only when its ServiceTimeout runs out',
          physicalResourceId: started.physicalResourceId,
        };
      }
      return { ok: false, error: 'Operation timed out', physicalResourceId: started.physicalResourceId };
    }
    await new Promise((resolve) => setTimeout(resolve, options.queryIntervalMs));
  }
}
