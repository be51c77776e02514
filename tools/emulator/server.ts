/**
 * HTTP front end: the Chime SDK Voice REST-JSON wire protocol, as the SDK's own schemas define it
 * (`@aws-sdk/client-chime-sdk-voice` dist-cjs: each operation's `http` trait gives method, path,
 * query literal and success status; members give body and query names; errors carry an
 * `x-amzn-errortype` header, which the SDK's `loadRestJsonErrorCode` reads first, plus a
 * `{Code, Message}` body). Also serves the `/_emulator/...` control endpoints.
 */
import * as http from 'http';
import { CallRecord, EmulatorControl, SeedNumber } from './control';
import { FaultInjector, OperationName, OPERATIONS } from './faults';
import { ApiError, AssociationName, AssociationTarget, Inventory } from './state';

export const CONTROL_PREFIX = '/_emulator';

interface ApiRequest {
  /** The decoded `{...}` path label, when the route has one. */
  readonly label: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
}

interface ApiResult {
  readonly status: number;
  /** JSON body; absent for 204. */
  readonly body?: Record<string, unknown>;
}

interface ApiRoute {
  readonly operation: OperationName;
  readonly method: string;
  readonly path: RegExp;
  /** Literal `?operation=...` the SDK appends for the (dis)associate calls. */
  readonly queryOperation?: string;
  readonly run: (req: ApiRequest) => ApiResult;
}

export interface ServerParts {
  readonly inventory: Inventory;
  readonly faults: FaultInjector;
  readonly calls: CallRecord[];
  readonly control: EmulatorControl;
  /** Serves `POST /_emulator/shutdown` (answered first, then called); without it that endpoint is a 404. */
  readonly onShutdown?: () => void;
}

const GROUP = /^\/voice-connector-groups\/([^/]+)$/;
const CONNECTOR = /^\/voice-connectors\/([^/]+)$/;

/** A Node HTTP server that emulates Chime SDK Voice; `close()` also cancels answers still waiting out injected latency. */
export class EmulatorServer {
  private readonly server: http.Server;
  private readonly routes: readonly ApiRoute[];
  private readonly pendingDelays = new Set<NodeJS.Timeout>();
  private requestCounter = 0;

  constructor(private readonly parts: ServerParts) {
    this.routes = apiRoutes(parts.inventory, parts.faults);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // Only reachable through a bug in the emulator itself; answer rather than hang the client.
        sendJson(res, 500, { error: `Emulator failure: ${String(err)}` });
      });
    });
  }

  public listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  public close(): Promise<void> {
    for (const timer of this.pendingDelays) clearTimeout(timer);
    this.pendingDelays.clear();
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      // SDK clients keep connections alive; without this, close() would wait for them to idle out.
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const rawBody = await readBody(req);
    if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
      this.handleControl(method, url.pathname.slice(CONTROL_PREFIX.length), url.searchParams, rawBody, res);
      return;
    }

    const match = this.match(method, url);
    if (!match) {
      const message = `No Chime SDK Voice operation for ${method} ${url.pathname}${url.search}; the emulator serves: ${OPERATIONS.join(', ')}`;
      this.answer(res, { status: 404, headers: { 'x-amzn-errortype': 'UnknownOperationException' }, body: { message } }, {
        operation: 'UnknownOperation', method, path: url.pathname, errorType: 'UnknownOperationException', perNumberErrors: 0,
      });
      return;
    }

    const { route, label } = match;
    const latency = this.parts.faults.current.latencyMs;
    if (latency > 0) await this.delay(latency);

    const call = {
      operation: route.operation,
      method,
      path: url.pathname,
      ...(GROUP.test(url.pathname) ? { groupId: label } : {}),
      ...(CONNECTOR.test(url.pathname) ? { voiceConnectorId: label } : {}),
      ...(route.operation === 'GetPhoneNumber' ? { numbers: [label] } : {}),
    };
    let body: Record<string, unknown> = {};
    try {
      body = parseJsonBody(rawBody);
      const fault = this.parts.faults.admit(route.operation);
      if (fault) throw fault;
      const result = route.run({ label, query: url.searchParams, body });
      const perNumberErrors = Array.isArray(result.body?.PhoneNumberErrors) ? result.body.PhoneNumberErrors.length : 0;
      if (perNumberErrors > 0) {
        result.body!.PhoneNumberErrors = (result.body!.PhoneNumberErrors as Array<Record<string, unknown>>)
          .map(({ PhoneNumberId, ...rest }) => (this.parts.faults.unnamed() ? rest : { PhoneNumberId, ...rest }));
      }
      this.answer(res, { status: result.status, body: result.body }, { ...call, ...requestNumbers(body), perNumberErrors });
    } catch (err) {
      const apiError = err instanceof ApiError ? err : new ApiError('ServiceFailureException', `Emulator failure: ${String(err)}`);
      this.answer(res, {
        status: apiError.status,
        headers: { 'x-amzn-errortype': apiError.exception },
        body: { Code: apiError.code, Message: apiError.message },
      }, { ...call, ...requestNumbers(body), errorType: apiError.exception, perNumberErrors: 0 });
    }
  }

  private match(method: string, url: URL): { route: ApiRoute; label: string } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      if ((url.searchParams.get('operation') ?? undefined) !== route.queryOperation) continue;
      const m = route.path.exec(url.pathname);
      // Labels arrive percent-encoded ('+' as %2B); a malformed escape cannot name anything real.
      if (m) return { route, label: m[1] === undefined ? '' : safeDecode(m[1]) };
    }
    return undefined;
  }

  private answer(
    res: http.ServerResponse,
    reply: { status: number; headers?: Record<string, string>; body?: Record<string, unknown> },
    record: Omit<CallRecord, 'status' | 'timestamp'>,
  ): void {
    this.requestCounter += 1;
    const requestId = `00000000-0000-4000-a000-${String(this.requestCounter).padStart(12, '0')}`;
    this.parts.calls.push({ ...record, status: reply.status, timestamp: Date.now() });
    sendJson(res, reply.status, reply.body, { 'x-amzn-requestid': requestId, ...reply.headers });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.pendingDelays.add(timer);
    });
  }

  private handleControl(method: string, path: string, query: URLSearchParams, rawBody: string, res: http.ServerResponse): void {
    if (method === 'POST' && path === '/shutdown' && this.parts.onShutdown) {
      sendJson(res, 200, { result: 'stopping' });
      res.once('finish', () => this.parts.onShutdown!());
      return;
    }
    try {
      const result = controlRoute(this.parts.control, method, path, query, parseJsonBody(rawBody));
      if (result === NO_ROUTE) {
        sendJson(res, 404, { error: `No control endpoint ${method} ${CONTROL_PREFIX}${path}` });
      } else {
        sendJson(res, 200, { result: result ?? null });
      }
    } catch (err) {
      sendJson(res, err instanceof ApiError ? err.status : 400, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function apiRoutes(inventory: Inventory, faults: FaultInjector): ApiRoute[] {
  const target = (name: AssociationTarget['name'], id: string): AssociationTarget => ({ name, id });
  return [
    {
      operation: 'AssociatePhoneNumbersWithVoiceConnectorGroup',
      method: 'POST',
      path: GROUP,
      queryOperation: 'associate-phone-numbers',
      run: ({ label, body }) => ({
        status: 200,
        body: { PhoneNumberErrors: inventory.associate(target('VoiceConnectorGroupId', label), body.E164PhoneNumbers, body.ForceAssociate, faults.associationPolicy()) },
      }),
    },
    {
      operation: 'DisassociatePhoneNumbersFromVoiceConnectorGroup',
      method: 'POST',
      path: GROUP,
      queryOperation: 'disassociate-phone-numbers',
      run: ({ label, body }) => ({
        status: 200,
        body: { PhoneNumberErrors: inventory.disassociate(target('VoiceConnectorGroupId', label), body.E164PhoneNumbers, faults.associationPolicy()) },
      }),
    },
    {
      operation: 'AssociatePhoneNumbersWithVoiceConnector',
      method: 'POST',
      path: CONNECTOR,
      queryOperation: 'associate-phone-numbers',
      run: ({ label, body }) => ({
        status: 200,
        body: { PhoneNumberErrors: inventory.associate(target('VoiceConnectorId', label), body.E164PhoneNumbers, body.ForceAssociate, faults.associationPolicy()) },
      }),
    },
    {
      operation: 'DisassociatePhoneNumbersFromVoiceConnector',
      method: 'POST',
      path: CONNECTOR,
      queryOperation: 'disassociate-phone-numbers',
      run: ({ label, body }) => ({
        status: 200,
        body: { PhoneNumberErrors: inventory.disassociate(target('VoiceConnectorId', label), body.E164PhoneNumbers, faults.associationPolicy()) },
      }),
    },
    {
      operation: 'GetPhoneNumber',
      method: 'GET',
      path: /^\/phone-numbers\/([^/]+)$/,
      run: ({ label }) => ({ status: 200, body: { PhoneNumber: inventory.getPhoneNumber(label) } }),
    },
    {
      operation: 'ListPhoneNumbers',
      method: 'GET',
      path: /^\/phone-numbers$/,
      run: ({ query }) => {
        const page = inventory.listPhoneNumbers({
          status: query.get('status') ?? undefined,
          productType: query.get('product-type') ?? undefined,
          filterName: query.get('filter-name') ?? undefined,
          filterValue: query.get('filter-value') ?? undefined,
          maxResults: optionalNumber(query.get('max-results')),
          nextToken: query.get('next-token') ?? undefined,
        }, faults.current.offsetPaging ? 'offset' : 'key');
        return { status: 200, body: { PhoneNumbers: page.numbers, NextToken: page.nextToken } };
      },
    },
    {
      operation: 'CreateVoiceConnectorGroup',
      method: 'POST',
      path: /^\/voice-connector-groups$/,
      run: ({ body }) => ({
        status: 201,
        body: {
          VoiceConnectorGroup: inventory.createGroup({
            name: body.Name as string, items: body.VoiceConnectorItems, callDistributionType: optionalString(body.CallDistributionType),
          }),
        },
      }),
    },
    {
      operation: 'GetVoiceConnectorGroup',
      method: 'GET',
      path: GROUP,
      run: ({ label }) => ({ status: 200, body: { VoiceConnectorGroup: inventory.getGroup(label) } }),
    },
    {
      operation: 'UpdateVoiceConnectorGroup',
      method: 'PUT',
      path: GROUP,
      run: ({ label, body }) => ({
        status: 202,
        body: {
          VoiceConnectorGroup: inventory.updateGroup(label, {
            name: body.Name, items: body.VoiceConnectorItems, callDistributionType: optionalString(body.CallDistributionType),
          }),
        },
      }),
    },
    {
      operation: 'DeleteVoiceConnectorGroup',
      method: 'DELETE',
      path: GROUP,
      run: ({ label }) => {
        inventory.deleteGroup(label, faults.current.strictGroupDelete);
        return { status: 204 };
      },
    },
    {
      operation: 'ListVoiceConnectorGroups',
      method: 'GET',
      path: /^\/voice-connector-groups$/,
      run: ({ query }) => {
        const page = inventory.listGroups(optionalNumber(query.get('max-results')), query.get('next-token') ?? undefined);
        return { status: 200, body: { VoiceConnectorGroups: page.groups, NextToken: page.nextToken } };
      },
    },
    {
      operation: 'CreateVoiceConnector',
      method: 'POST',
      path: /^\/voice-connectors$/,
      run: ({ body }) => {
        if (typeof body.RequireEncryption !== 'boolean') throw new ApiError('BadRequestException', 'RequireEncryption is required and must be a boolean');
        return {
          status: 201,
          body: {
            VoiceConnector: inventory.createVoiceConnector({
              name: body.Name as string, awsRegion: optionalString(body.AwsRegion), requireEncryption: body.RequireEncryption,
            }),
          },
        };
      },
    },
    {
      operation: 'GetVoiceConnector',
      method: 'GET',
      path: CONNECTOR,
      run: ({ label }) => ({ status: 200, body: { VoiceConnector: inventory.getVoiceConnector(label) } }),
    },
  ];
}

/** Marks "no control endpoint here", distinct from an endpoint that returns nothing. */
const NO_ROUTE = Symbol('no-route');

/**
 * `/_emulator` endpoints, one per control method. Answers are `{result}` with status 200, or
 * `{error}` with 400 (bad input), 404 (unknown endpoint or entity) or 409 (already exists).
 */
function controlRoute(control: EmulatorControl, method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): unknown {
  const segments = path.split('/').filter((s) => s.length > 0).map(safeDecode);
  // The second segment is always an id (group, connector or number): match it as ':'.
  const route = `${method} /${segments.map((s, i) => (i === 1 ? ':' : s)).join('/')}`;
  const id = segments[1];
  switch (route) {
    case 'GET /state': return control.snapshot();
    case 'POST /reset': return control.reset();
    case 'POST /numbers': return control.seedNumbers(requireArray(body.numbers, 'numbers') as Array<string | SeedNumber>);
    case 'POST /voice-connectors': return control.createVoiceConnector(body as { name?: string; id?: string });
    case 'GET /voice-connectors/:/numbers': return control.voiceConnectorNumbers(id);
    case 'POST /groups': return control.createGroup(body as { name: string; id?: string; voiceConnectorIds?: string[] });
    case 'DELETE /groups/:': return control.deleteGroup(id);
    case 'GET /groups/:/numbers': return control.groupNumbers(id);
    case 'GET /bindings': return control.getBindings();
    case 'GET /bindings/:': return control.getBinding(id);
    case 'PUT /bindings/:': return control.bind(id, body.name as AssociationName, body.value as string);
    case 'DELETE /bindings/:': return control.unbind(id);
    case 'GET /faults': return control.getFaults();
    case 'PUT /faults': return control.setFaults(body);
    case 'DELETE /faults': return control.clearFaults();
    case 'POST /seed': return control.reseed(body.seed as number);
    case 'GET /calls': return control.getCalls({ operation: (query.get('operation') ?? undefined) as CallRecord['operation'] | undefined });
    case 'DELETE /calls': return control.clearCalls();
    default: return NO_ROUTE;
  }
}

/** `E164PhoneNumbers` as sent, for the call log (GetPhoneNumber logs its path label instead). */
function requestNumbers(body: Record<string, unknown>): { numbers?: string[] } {
  return Array.isArray(body.E164PhoneNumbers) ? { numbers: body.E164PhoneNumbers.map(String) } : {};
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonBody(raw: string): Record<string, unknown> {
  if (raw.trim().length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError('BadRequestException', 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError('BadRequestException', 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  // JSON.stringify drops undefined members, so optional output fields (e.g. NextToken) simply vanish.
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(payload ? { 'content-type': 'application/json' } : {}),
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function requireArray(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${name} must be a list`);
  return value;
}

function optionalNumber(value: string | null): number | undefined {
  return value === null ? undefined : Number(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
