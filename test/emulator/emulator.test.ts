import { spawn } from 'child_process';
import * as path from 'path';
import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  BadRequestException,
  ChimeSDKVoiceClient,
  ChimeSDKVoiceServiceException,
  ConflictException,
  CreateVoiceConnectorCommand,
  CreateVoiceConnectorGroupCommand,
  DeleteVoiceConnectorGroupCommand,
  DisassociatePhoneNumbersFromVoiceConnectorCommand,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
  ForbiddenException,
  GetPhoneNumberCommand,
  GetVoiceConnectorCommand,
  GetVoiceConnectorGroupCommand,
  ListPhoneNumbersCommand,
  ListPhoneNumbersCommandInput,
  ListVoiceConnectorGroupsCommand,
  ListVoiceConnectorsCommand,
  NotFoundException,
  paginateListPhoneNumbers,
  PhoneNumber,
  ServiceFailureException,
  ServiceUnavailableException,
  ThrottledClientException,
  UnauthorizedClientException,
  UpdateVoiceConnectorGroupCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import { Emulator, FaultOptions, mulberry32, startEmulator } from '../../tools/emulator';
import { FaultInjector } from '../../tools/emulator/faults';

const NUMBERS = ['+12065550100', '+12065550101', '+12065550102', '+12065550103', '+12065550104'];

let emu: Emulator;
let client: ChimeSDKVoiceClient;

function newClient(endpoint?: string): ChimeSDKVoiceClient {
  return new ChimeSDKVoiceClient({
    region: 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

/** Runs `fn`, which must reject, and returns what it rejected with. */
async function failure(fn: () => Promise<unknown>): Promise<ChimeSDKVoiceServiceException> {
  try {
    await fn();
  } catch (err) {
    return err as ChimeSDKVoiceServiceException;
  }
  throw new Error('expected the call to fail');
}

async function expectException(fn: () => Promise<unknown>, type: new (...args: never[]) => Error, name: string, status: number): Promise<void> {
  const err = await failure(fn);
  expect(err).toBeInstanceOf(type);
  expect(err.name).toBe(name);
  expect(err.$metadata.httpStatusCode).toBe(status);
}

const associate = (groupId: string, numbers: string[], force?: boolean) => client.send(
  new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId, E164PhoneNumbers: numbers, ForceAssociate: force }),
);
const disassociate = (groupId: string, numbers: string[]) =>
  client.send(new DisassociatePhoneNumbersFromVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId, E164PhoneNumbers: numbers }));
const errorCodes = (out: { PhoneNumberErrors?: Array<{ PhoneNumberId?: string; ErrorCode?: string }> }) =>
  Object.fromEntries((out.PhoneNumberErrors ?? []).map((e) => [e.PhoneNumberId, e.ErrorCode]));

async function newGroup(name = 'group'): Promise<string> {
  const out = await client.send(new CreateVoiceConnectorGroupCommand({ Name: name }));
  return out.VoiceConnectorGroup!.VoiceConnectorGroupId!;
}

beforeEach(async () => {
  emu = await startEmulator({ seed: 1 });
  emu.control.seedNumbers(NUMBERS);
  client = newClient(emu.url);
});

afterEach(async () => {
  client.destroy();
  await emu.close();
});

describe('voice connector groups', () => {
  test('create, get, update, list and delete round-trip through the SDK', async () => {
    const vc = emu.control.createVoiceConnector({ name: 'vc-a' });
    const created = await client.send(new CreateVoiceConnectorGroupCommand({
      Name: 'primary', VoiceConnectorItems: [{ VoiceConnectorId: vc.VoiceConnectorId, Priority: 1 }],
    }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    const group = created.VoiceConnectorGroup!;
    expect(group.Name).toBe('primary');
    expect(group.VoiceConnectorItems).toEqual([{ VoiceConnectorId: vc.VoiceConnectorId, Priority: 1 }]);
    expect(group.CreatedTimestamp).toBeInstanceOf(Date);
    expect(group.UpdatedTimestamp).toBeInstanceOf(Date);
    expect(group.VoiceConnectorGroupArn).toBe(`arn:aws:chime:us-east-1:123456789012:vcg/${group.VoiceConnectorGroupId}`);

    const got = await client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: group.VoiceConnectorGroupId }));
    expect(got.VoiceConnectorGroup).toEqual(group);

    const updated = await client.send(new UpdateVoiceConnectorGroupCommand({
      VoiceConnectorGroupId: group.VoiceConnectorGroupId, Name: 'renamed', VoiceConnectorItems: [],
    }));
    expect(updated.$metadata.httpStatusCode).toBe(202);
    expect(updated.VoiceConnectorGroup).toMatchObject({ VoiceConnectorGroupId: group.VoiceConnectorGroupId, Name: 'renamed', VoiceConnectorItems: [] });

    const listed = await client.send(new ListVoiceConnectorGroupsCommand({}));
    expect(listed.VoiceConnectorGroups?.map((g) => g.Name)).toEqual(['renamed']);

    const deleted = await client.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: group.VoiceConnectorGroupId }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    await expectException(() => client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: group.VoiceConnectorGroupId })),
      NotFoundException, 'NotFoundException', 404);
  });

  test('ListVoiceConnectorGroups pages with next-token', async () => {
    for (const name of ['a', 'b', 'c']) await newGroup(name);
    const first = await client.send(new ListVoiceConnectorGroupsCommand({ MaxResults: 2 }));
    expect(first.VoiceConnectorGroups?.map((g) => g.Name)).toEqual(['a', 'b']);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await client.send(new ListVoiceConnectorGroupsCommand({ MaxResults: 2, NextToken: first.NextToken }));
    expect(second.VoiceConnectorGroups?.map((g) => g.Name)).toEqual(['c']);
    expect(second.NextToken).toBeUndefined();
  });

  test('unknown groups, bad names and unknown voice connectors are rejected', async () => {
    await expectException(() => client.send(new UpdateVoiceConnectorGroupCommand({ VoiceConnectorGroupId: 'nope', Name: 'x', VoiceConnectorItems: [] })),
      NotFoundException, 'NotFoundException', 404);
    await expectException(() => client.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: 'nope' })), NotFoundException, 'NotFoundException', 404);
    await expectException(() => client.send(new CreateVoiceConnectorGroupCommand({ Name: '' })), BadRequestException, 'BadRequestException', 400);
    await expectException(() => client.send(new CreateVoiceConnectorGroupCommand({ Name: 'g', VoiceConnectorItems: [{ VoiceConnectorId: 'missing', Priority: 1 }] })),
      NotFoundException, 'NotFoundException', 404);
    expect(emu.control.snapshot().groups).toEqual([]);
  });

  test('deleting a group that still has numbers is a 409 ConflictException and deletes nothing', async () => {
    const groupId = await newGroup();
    await associate(groupId, [NUMBERS[0]]);
    const err = await failure(() => client.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId })));
    expect(err).toBeInstanceOf(ConflictException);
    expect(err.$metadata.httpStatusCode).toBe(409);
    expect(err.message).toContain('1 phone number');
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[0]]);
    await disassociate(groupId, [NUMBERS[0]]);
    await client.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId }));
    expect(emu.control.snapshot().groups).toEqual([]);
  });
});

describe('voice connectors', () => {
  test('create, get, associate and disassociate numbers on a single voice connector', async () => {
    const created = await client.send(new CreateVoiceConnectorCommand({ Name: 'edge', RequireEncryption: true }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    const id = created.VoiceConnector!.VoiceConnectorId!;
    const got = await client.send(new GetVoiceConnectorCommand({ VoiceConnectorId: id }));
    expect(got.VoiceConnector).toMatchObject({ VoiceConnectorId: id, Name: 'edge', RequireEncryption: true, AwsRegion: 'us-east-1' });

    const assoc = await client.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({ VoiceConnectorId: id, E164PhoneNumbers: [NUMBERS[0], '+19995550000'] }));
    expect(errorCodes(assoc)).toEqual({ '+19995550000': 'NotFound' });
    expect(emu.control.getBinding(NUMBERS[0])).toEqual({ name: 'VoiceConnectorId', value: id });
    expect(emu.control.voiceConnectorNumbers(id)).toEqual([NUMBERS[0]]);

    const dis = await client.send(new DisassociatePhoneNumbersFromVoiceConnectorCommand({ VoiceConnectorId: id, E164PhoneNumbers: [NUMBERS[0]] }));
    expect(dis.PhoneNumberErrors).toEqual([]);
    expect(emu.control.getBinding(NUMBERS[0])).toBeNull();
  });

  test('unknown voice connector is a NotFoundException; CreateVoiceConnector needs RequireEncryption', async () => {
    await expectException(() => client.send(new GetVoiceConnectorCommand({ VoiceConnectorId: 'nope' })), NotFoundException, 'NotFoundException', 404);
    await expectException(() => client.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({ VoiceConnectorId: 'nope', E164PhoneNumbers: [NUMBERS[0]] })),
      NotFoundException, 'NotFoundException', 404);
    await expectException(() => client.send(new CreateVoiceConnectorCommand({ Name: 'x', RequireEncryption: undefined as unknown as boolean })),
      BadRequestException, 'BadRequestException', 400);
  });
});

describe('AssociatePhoneNumbersWithVoiceConnectorGroup', () => {
  test('binds numbers, normalises numbers without +, and reports unknown numbers per number inside a 200', async () => {
    const groupId = await newGroup();
    const out = await associate(groupId, [NUMBERS[0], NUMBERS[1].slice(1), '+19995550000']);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.PhoneNumberErrors).toEqual([{ PhoneNumberId: '+19995550000', ErrorCode: 'NotFound', ErrorMessage: expect.stringContaining('inventory') }]);
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[0], NUMBERS[1]]);
  });

  test('an invalid E.164 number rejects the whole request with 400 and changes nothing', async () => {
    const groupId = await newGroup();
    for (const bad of ['1', '+0123456789', '+1206555010012345', 'abc', '']) {
      const err = await failure(() => associate(groupId, [NUMBERS[0], bad]));
      expect(err).toBeInstanceOf(BadRequestException);
      expect(err.$metadata.httpStatusCode).toBe(400);
    }
    expect(emu.control.getBinding(NUMBERS[0])).toBeNull();
  });

  test('unknown group is a 404 NotFoundException', async () => {
    await expectException(() => associate('no-such-group', [NUMBERS[0]]), NotFoundException, 'NotFoundException', 404);
    await expectException(() => disassociate('no-such-group', [NUMBERS[0]]), NotFoundException, 'NotFoundException', 404);
  });

  test('a number of another product type gets per-number BadRequest', async () => {
    const groupId = await newGroup();
    emu.control.seedNumbers([{ number: '+13125550100', productType: 'SipMediaApplicationDialIn' }, { number: '+13125550101', productType: 'BusinessCalling' }]);
    const out = await associate(groupId, ['+13125550100', '+13125550101', NUMBERS[0]]);
    expect(errorCodes(out)).toEqual({ '+13125550100': 'BadRequest', '+13125550101': 'BadRequest' });
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[0]]);
  });

  test('a number bound elsewhere is PhoneNumberAssociationsExist without ForceAssociate and moved with it', async () => {
    const groupId = await newGroup('mine');
    const otherGroup = emu.control.createGroup({ name: 'theirs' }).VoiceConnectorGroupId;
    const vc = emu.control.createVoiceConnector().VoiceConnectorId;
    emu.control.bind(NUMBERS[0], 'VoiceConnectorGroupId', otherGroup);
    emu.control.bind(NUMBERS[1], 'VoiceConnectorId', vc);

    const refused = await associate(groupId, [NUMBERS[0], NUMBERS[1], NUMBERS[2]], false);
    expect(errorCodes(refused)).toEqual({ [NUMBERS[0]]: 'PhoneNumberAssociationsExist', [NUMBERS[1]]: 'PhoneNumberAssociationsExist' });
    expect(refused.PhoneNumberErrors![0].ErrorMessage).toContain(otherGroup);
    expect(emu.control.getBinding(NUMBERS[0])).toEqual({ name: 'VoiceConnectorGroupId', value: otherGroup });
    expect(emu.control.getBinding(NUMBERS[1])).toEqual({ name: 'VoiceConnectorId', value: vc });
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[2]]);

    const forced = await associate(groupId, [NUMBERS[0], NUMBERS[1]], true);
    expect(forced.PhoneNumberErrors).toEqual([]);
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[0], NUMBERS[1], NUMBERS[2]]);
    expect(emu.control.groupNumbers(otherGroup)).toEqual([]);
  });

  test('re-associating with the same group is a successful no-op that keeps the association timestamp', async () => {
    const groupId = await newGroup();
    await associate(groupId, [NUMBERS[0]]);
    const before = (await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }))).PhoneNumber!.Associations![0].AssociatedTimestamp;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await associate(groupId, [NUMBERS[0], NUMBERS[0]]);
    expect(again.PhoneNumberErrors).toEqual([]);
    const after = (await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }))).PhoneNumber!.Associations![0].AssociatedTimestamp;
    expect(after).toEqual(before);
  });
});

describe('DisassociatePhoneNumbersFromVoiceConnectorGroup', () => {
  test('unbinds numbers on this group; unbound and bound-elsewhere numbers are silent no-ops; unknown numbers are NotFound', async () => {
    const groupId = await newGroup('mine');
    const otherGroup = emu.control.createGroup({ name: 'theirs' }).VoiceConnectorGroupId;
    await associate(groupId, [NUMBERS[0]]);
    emu.control.bind(NUMBERS[1], 'VoiceConnectorGroupId', otherGroup);

    const out = await disassociate(groupId, [NUMBERS[0], NUMBERS[1], NUMBERS[2], '+19995550000']);
    expect(errorCodes(out)).toEqual({ '+19995550000': 'NotFound' });
    expect(emu.control.getBinding(NUMBERS[0])).toBeNull();
    expect(emu.control.getBinding(NUMBERS[1])).toEqual({ name: 'VoiceConnectorGroupId', value: otherGroup });
    expect(emu.control.getBinding(NUMBERS[2])).toBeNull();
  });

  test('an invalid number rejects the whole request and the bound number stays bound', async () => {
    const groupId = await newGroup();
    await associate(groupId, [NUMBERS[0]]);
    await expectException(() => disassociate(groupId, [NUMBERS[0], '+1-206']), BadRequestException, 'BadRequestException', 400);
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[0]]);
  });
});

describe('GetPhoneNumber and ListPhoneNumbers', () => {
  test('GetPhoneNumber returns the association, status and timestamps; unknown is 404', async () => {
    const groupId = await newGroup();
    const unbound = (await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }))).PhoneNumber!;
    expect(unbound).toMatchObject({ PhoneNumberId: NUMBERS[0], E164PhoneNumber: NUMBERS[0], Status: 'Unassigned', ProductType: 'VoiceConnector', Associations: [] });
    await associate(groupId, [NUMBERS[0]]);
    const bound = (await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0].slice(1) }))).PhoneNumber!;
    expect(bound.Status).toBe('Assigned');
    expect(bound.Associations).toEqual([{ Name: 'VoiceConnectorGroupId', Value: groupId, AssociatedTimestamp: expect.any(Date) }]);
    expect(bound.UpdatedTimestamp!.getTime()).toBeGreaterThanOrEqual(bound.CreatedTimestamp!.getTime());
    await expectException(() => client.send(new GetPhoneNumberCommand({ PhoneNumberId: '+19995550000' })), NotFoundException, 'NotFoundException', 404);
  });

  test('filters by association, status and product type', async () => {
    const groupId = await newGroup();
    const vc = emu.control.createVoiceConnector().VoiceConnectorId;
    emu.control.seedNumbers([{ number: '+13125550100', productType: 'SipMediaApplicationDialIn' }]);
    await associate(groupId, [NUMBERS[0], NUMBERS[1]]);
    emu.control.bind(NUMBERS[2], 'VoiceConnectorId', vc);
    emu.control.bind('+13125550100', 'SipRuleId', 'rule-1');
    const list = async (input: ListPhoneNumbersCommandInput) =>
      (await client.send(new ListPhoneNumbersCommand(input))).PhoneNumbers!.map((p: PhoneNumber) => p.PhoneNumberId);

    expect(await list({ FilterName: 'VoiceConnectorGroupId', FilterValue: groupId })).toEqual([NUMBERS[0], NUMBERS[1]]);
    expect(await list({ FilterName: 'VoiceConnectorId', FilterValue: vc })).toEqual([NUMBERS[2]]);
    expect(await list({ FilterName: 'SipRuleId', FilterValue: 'rule-1' })).toEqual(['+13125550100']);
    expect(await list({ Status: 'Unassigned' })).toEqual([NUMBERS[3], NUMBERS[4]]);
    expect(await list({ ProductType: 'SipMediaApplicationDialIn' })).toEqual(['+13125550100']);
    expect(await list({ ProductType: 'VoiceConnector', Status: 'Assigned' })).toEqual([NUMBERS[0], NUMBERS[1], NUMBERS[2]]);
    await expectException(() => list({ FilterName: 'Bogus' as never, FilterValue: 'x' }), BadRequestException, 'BadRequestException', 400);
    await expectException(() => list({ FilterName: 'VoiceConnectorGroupId' }), BadRequestException, 'BadRequestException', 400);
  });

  test('pages with next-token, also through the SDK paginator', async () => {
    const first = await client.send(new ListPhoneNumbersCommand({ MaxResults: 2 }));
    expect(first.PhoneNumbers!.map((p) => p.PhoneNumberId)).toEqual(NUMBERS.slice(0, 2));
    const second = await client.send(new ListPhoneNumbersCommand({ MaxResults: 2, NextToken: first.NextToken }));
    expect(second.PhoneNumbers!.map((p) => p.PhoneNumberId)).toEqual(NUMBERS.slice(2, 4));
    const last = await client.send(new ListPhoneNumbersCommand({ MaxResults: 2, NextToken: second.NextToken }));
    expect(last.PhoneNumbers!.map((p) => p.PhoneNumberId)).toEqual([NUMBERS[4]]);
    expect(last.NextToken).toBeUndefined();

    const all: string[] = [];
    for await (const page of paginateListPhoneNumbers({ client, pageSize: 3 }, {})) {
      all.push(...page.PhoneNumbers!.map((p) => p.PhoneNumberId!));
    }
    expect(all).toEqual(NUMBERS);
  });

  test('a next-token survives numbers leaving earlier pages; with offsetPaging, later numbers slip out of view', async () => {
    const listAfterRemoval = async () => {
      const groupId = await newGroup();
      await associate(groupId, NUMBERS);
      const query = { FilterName: 'VoiceConnectorGroupId' as const, FilterValue: groupId, MaxResults: 2 };
      const first = await client.send(new ListPhoneNumbersCommand(query));
      await disassociate(groupId, NUMBERS.slice(0, 2));
      const second = await client.send(new ListPhoneNumbersCommand({ ...query, NextToken: first.NextToken }));
      await disassociate(groupId, NUMBERS);
      return [first, second].map((page) => page.PhoneNumbers!.map((p) => p.PhoneNumberId));
    };
    expect(await listAfterRemoval()).toEqual([NUMBERS.slice(0, 2), NUMBERS.slice(2, 4)]);
    emu.control.setFaults({ offsetPaging: true });
    expect(await listAfterRemoval()).toEqual([NUMBERS.slice(0, 2), [NUMBERS[4]]]);
  });

  test('max-results outside 1..100 and a forged next-token are 400 BadRequestException', async () => {
    for (const max of [0, 101, -1]) {
      await expectException(() => client.send(new ListPhoneNumbersCommand({ MaxResults: max })), BadRequestException, 'BadRequestException', 400);
    }
    expect((await client.send(new ListPhoneNumbersCommand({ MaxResults: 100 }))).PhoneNumbers).toHaveLength(5);
    await expectException(() => client.send(new ListPhoneNumbersCommand({ NextToken: 'not a token!' })), BadRequestException, 'BadRequestException', 400);
    await expectException(() => client.send(new ListVoiceConnectorGroupsCommand({ MaxResults: 101 })), BadRequestException, 'BadRequestException', 400);
  });
});

describe('wire format', () => {
  test('errors carry x-amzn-errortype and a {Code, Message} body; the SDK exposes Code', async () => {
    const res = await fetch(`${emu.url}/voice-connector-groups/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('NotFoundException');
    expect(res.headers.get('x-amzn-requestid')).toEqual(expect.any(String));
    expect(await res.json()).toEqual({ Code: 'NotFound', Message: 'Voice connector group nope not found' });

    const err = await failure(() => client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: 'nope' })));
    expect((err as NotFoundException).Code).toBe('NotFound');
    expect(err.$fault).toBe('client');
  });

  test('malformed JSON is a 400 BadRequestException', async () => {
    const groupId = await newGroup();
    const res = await fetch(`${emu.url}/voice-connector-groups/${groupId}?operation=associate-phone-numbers`, { method: 'POST', body: '{"E164' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('BadRequestException');
  });

  test('unknown routes answer 404 UnknownOperationException naming the request, and are logged', async () => {
    const err = await failure(() => client.send(new ListVoiceConnectorsCommand({})));
    expect(err).toBeInstanceOf(ChimeSDKVoiceServiceException);
    expect(err.name).toBe('UnknownOperationException');
    expect(err.$metadata.httpStatusCode).toBe(404);
    expect(err.message).toContain('GET /voice-connectors');

    const res = await fetch(`${emu.url}/voice-connector-groups/x?operation=frobnicate`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(emu.calls.map((c) => c.operation)).toEqual(['UnknownOperation', 'UnknownOperation']);
  });

  test('AWS_ENDPOINT_URL_CHIME_SDK_VOICE redirects a client built without an endpoint', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE;
    process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = emu.url;
    const envClient = newClient();
    try {
      const out = await envClient.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }));
      expect(out.PhoneNumber?.PhoneNumberId).toBe(NUMBERS[0]);
      expect(emu.calls.map((c) => c.operation)).toEqual(['GetPhoneNumber']);
    } finally {
      envClient.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE;
      else process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE = saved;
    }
  });
});

describe('call log', () => {
  test('records operation, target, numbers, status and per-number error count', async () => {
    const groupId = await newGroup();
    emu.control.clearCalls();
    await associate(groupId, [NUMBERS[0], '+19995550000']);
    await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }));
    await failure(() => client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: 'nope' })));
    const calls = emu.calls;
    expect(calls).toEqual([
      expect.objectContaining({
        operation: 'AssociatePhoneNumbersWithVoiceConnectorGroup', groupId, numbers: [NUMBERS[0], '+19995550000'], status: 200, perNumberErrors: 1,
      }),
      expect.objectContaining({ operation: 'GetPhoneNumber', numbers: [NUMBERS[0]], status: 200, perNumberErrors: 0 }),
      expect.objectContaining({ operation: 'GetVoiceConnectorGroup', groupId: 'nope', status: 404, errorType: 'NotFoundException' }),
    ]);
    expect(calls[0].timestamp).toBeLessThanOrEqual(calls[2].timestamp);
    expect(emu.control.getCalls({ operation: 'GetPhoneNumber' })).toHaveLength(1);
    emu.control.clearCalls();
    expect(emu.calls).toEqual([]);
  });
});

describe('faults', () => {
  test('tpsLimit answers 429 ThrottledClientException beyond the limit', async () => {
    const groupId = await newGroup();
    emu.control.setFaults({ tpsLimit: 3 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () =>
      client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as ThrottledClientException);
    expect(rejected).toHaveLength(3);
    for (const err of rejected) {
      expect(err).toBeInstanceOf(ThrottledClientException);
      expect(err.$metadata.httpStatusCode).toBe(429);
    }
  });

  test('tpsLimit is a sliding one-second window that does not count rejected requests', () => {
    let now = 0;
    const faults = new FaultInjector(1, { tpsLimit: 2 }, () => now);
    expect(faults.admit('GetPhoneNumber')).toBeUndefined();
    now = 500;
    expect(faults.admit('GetPhoneNumber')).toBeUndefined();
    expect(faults.admit('GetPhoneNumber')?.exception).toBe('ThrottledClientException');
    now = 1000; // the first request left the window
    expect(faults.admit('GetPhoneNumber')).toBeUndefined();
    expect(faults.admit('GetPhoneNumber')?.exception).toBe('ThrottledClientException');
    now = 1500;
    expect(faults.admit('GetPhoneNumber')).toBeUndefined();
  });

  test('perNumberThrottleRate answers per-number Throttled and applies only the others', async () => {
    const groupId = await newGroup();
    emu.control.setFaults({ perNumberThrottleRate: 1 });
    const all = await associate(groupId, NUMBERS);
    expect(Object.values(errorCodes(all))).toEqual(NUMBERS.map(() => 'Throttled'));
    expect(emu.control.groupNumbers(groupId)).toEqual([]);

    emu.control.setFaults({ perNumberThrottleRate: 0.5 });
    const some = await associate(groupId, NUMBERS);
    const throttled = Object.keys(errorCodes(some));
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled.length).toBeLessThan(NUMBERS.length);
    expect(emu.control.groupNumbers(groupId)).toEqual(NUMBERS.filter((n) => !throttled.includes(n)));
    expect(emu.calls.at(-1)?.perNumberErrors).toBe(throttled.length);
  });

  test('serverErrorRate answers 500 ServiceFailureException or 503 ServiceUnavailableException and applies nothing', async () => {
    const groupId = await newGroup();
    emu.control.setFaults({ serverErrorRate: 1 });
    const names = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const err = await failure(() => associate(groupId, [NUMBERS[0]]));
      if (err instanceof ServiceFailureException) expect(err.$metadata.httpStatusCode).toBe(500);
      else if (err instanceof ServiceUnavailableException) expect(err.$metadata.httpStatusCode).toBe(503);
      else throw new Error(`unexpected ${err.name}`);
      expect(err.$fault).toBe('server');
      names.add(err.name);
    }
    expect(names).toEqual(new Set(['ServiceFailureException', 'ServiceUnavailableException']));
    expect(emu.control.getBinding(NUMBERS[0])).toBeNull();
    emu.control.clearFaults();
    expect((await associate(groupId, [NUMBERS[0]])).PhoneNumberErrors).toEqual([]);
  });

  test('latencyMs delays every answer', async () => {
    emu.control.setFaults({ latencyMs: 150 });
    const started = Date.now();
    await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  test('close() does not wait for answers held back by latency', async () => {
    const slow = await startEmulator({ faults: { latencyMs: 60_000 } });
    const slowClient = newClient(slow.url);
    const pending = failure(() => slowClient.send(new ListPhoneNumbersCommand({})));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await slow.close();
    await pending;
    slowClient.destroy();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('maxListLength rejects longer E164PhoneNumbers lists with 400', async () => {
    const groupId = await newGroup();
    emu.control.setFaults({ maxListLength: 2 });
    await expectException(() => associate(groupId, NUMBERS.slice(0, 3)), BadRequestException, 'BadRequestException', 400);
    await expectException(() => disassociate(groupId, NUMBERS.slice(0, 3)), BadRequestException, 'BadRequestException', 400);
    expect(emu.control.groupNumbers(groupId)).toEqual([]);
    expect((await associate(groupId, NUMBERS.slice(0, 2))).PhoneNumberErrors).toEqual([]);
    expect(emu.control.groupNumbers(groupId)).toEqual(NUMBERS.slice(0, 2));
  });

  test('strictReassociate reports a number already on the group as PhoneNumberAssociationsExist, unless forced', async () => {
    const groupId = await newGroup();
    await associate(groupId, [NUMBERS[0]]);
    emu.control.setFaults({ strictReassociate: true });
    expect(errorCodes(await associate(groupId, [NUMBERS[0], NUMBERS[1]]))).toEqual({ [NUMBERS[0]]: 'PhoneNumberAssociationsExist' });
    expect(emu.control.groupNumbers(groupId)).toEqual([NUMBERS[0], NUMBERS[1]]);
    expect((await associate(groupId, [NUMBERS[0]], true)).PhoneNumberErrors).toEqual([]);
  });

  test('strictDisassociate reports numbers not bound to the group as NotFound and touches none of them', async () => {
    const groupId = await newGroup('mine');
    const otherGroup = emu.control.createGroup({ name: 'theirs' }).VoiceConnectorGroupId;
    await associate(groupId, [NUMBERS[0]]);
    emu.control.bind(NUMBERS[1], 'VoiceConnectorGroupId', otherGroup);
    emu.control.setFaults({ strictDisassociate: true });
    const out = await disassociate(groupId, [NUMBERS[0], NUMBERS[1], NUMBERS[2]]);
    expect(errorCodes(out)).toEqual({ [NUMBERS[1]]: 'NotFound', [NUMBERS[2]]: 'NotFound' });
    expect(emu.control.getBindings()).toMatchObject({
      [NUMBERS[0]]: null, [NUMBERS[1]]: { name: 'VoiceConnectorGroupId', value: otherGroup }, [NUMBERS[2]]: null,
    });
  });

  test('forcedErrors fail one operation with the chosen exception, optionally a limited number of times', async () => {
    const groupId = await newGroup();
    emu.control.setFaults({ forcedErrors: { AssociatePhoneNumbersWithVoiceConnectorGroup: { exception: 'ForbiddenException', message: 'no chime for you' } } });
    const err = await failure(() => associate(groupId, [NUMBERS[0]]));
    expect(err).toBeInstanceOf(ForbiddenException);
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe('no chime for you');
    expect(emu.control.getBinding(NUMBERS[0])).toBeNull();
    // Other operations are unaffected.
    await client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId }));

    emu.control.setFaults({ forcedErrors: { 'AssociatePhoneNumbersWithVoiceConnectorGroup': null, '*': { exception: 'UnauthorizedClientException', times: 2 } } });
    await expectException(() => client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] })), UnauthorizedClientException, 'UnauthorizedClientException', 401);
    await expectException(() => associate(groupId, [NUMBERS[0]]), UnauthorizedClientException, 'UnauthorizedClientException', 401);
    expect((await associate(groupId, [NUMBERS[0]])).PhoneNumberErrors).toEqual([]);
    expect(emu.control.getFaults().forcedErrors).toEqual({});

    // `after` lets the first matching requests through, e.g. to fail the second page of a listing.
    emu.control.setFaults({ forcedErrors: { GetPhoneNumber: { exception: 'ForbiddenException', after: 1, times: 1 } } });
    await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }));
    await expectException(() => client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] })), ForbiddenException, 'ForbiddenException', 403);
    await client.send(new GetPhoneNumberCommand({ PhoneNumberId: NUMBERS[0] }));
  });

  test('invalid fault settings are refused and change nothing', () => {
    const bad: FaultOptions[] = [
      { serverErrorRate: 1.5 }, { perNumberThrottleRate: -0.1 }, { tpsLimit: 0 }, { maxListLength: 2.5 }, { latencyMs: -1 },
      { forcedErrors: { GetPhoneNumber: { exception: 'NopeException' as never } } },
      { forcedErrors: { NotAnOperation: { exception: 'ForbiddenException' } } as never },
      { forcedErrors: { GetPhoneNumber: { exception: 'ForbiddenException', after: -1 } } },
      { offsetPaging: 'yes' as never },
      { unnamedErrorRate: 2 },
      { strictGroupDelete: 'yes' as never },
      { tpslimit: 3 } as never,
    ];
    for (const options of bad) expect(() => emu.control.setFaults(options)).toThrow();
    const rates = { perNumberThrottleRate: 0, serverErrorRate: 0, latencyMs: 0, unnamedErrorRate: 0 };
    const rules = { strictReassociate: false, strictDisassociate: false, offsetPaging: false, strictGroupDelete: true };
    expect(emu.control.getFaults()).toEqual({ ...rates, ...rules, forcedErrors: {} });
    emu.control.setFaults({ tpsLimit: 5, maxListLength: 10 });
    emu.control.setFaults({ tpsLimit: null });
    expect(emu.control.getFaults()).toMatchObject({ tpsLimit: undefined, maxListLength: 10 });
  });
});

describe('determinism under a seed', () => {
  /** Sends a fixed request sequence and returns what happened to each request and number. */
  async function run(seed: number): Promise<string[]> {
    const e = await startEmulator({ seed, faults: { serverErrorRate: 0.4, perNumberThrottleRate: 0.3 } });
    const c = newClient(e.url);
    try {
      e.control.seedNumbers(NUMBERS);
      const groupId = e.control.createGroup({ name: 'g' }).VoiceConnectorGroupId;
      const outcomes: string[] = [];
      for (let i = 0; i < 15; i++) {
        const input = { VoiceConnectorGroupId: groupId, E164PhoneNumbers: NUMBERS };
        const send = i % 2 === 0
          ? c.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand(input))
          : c.send(new DisassociatePhoneNumbersFromVoiceConnectorGroupCommand(input));
        outcomes.push(await send.then((out) => `ok:${Object.keys(errorCodes(out)).join(',')}`, (err: Error) => err.name));
      }
      return outcomes;
    } finally {
      c.destroy();
      await e.close();
    }
  }

  test('the same seed and requests give the same faults; another seed gives others', async () => {
    const a = await run(42);
    const b = await run(42);
    const other = await run(43);
    expect(a).toEqual(b);
    expect(other).not.toEqual(a);
    // The sequence exercises both kinds of fault.
    expect(a.some((o) => o.startsWith('Service'))).toBe(true);
    expect(a.some((o) => /^ok:\+/.test(o))).toBe(true);
  });

  test('reseed and reset restart the fault streams', () => {
    const faults = new FaultInjector(9, { serverErrorRate: 0.5 });
    const draw = () => Array.from({ length: 20 }, () => faults.admit('GetPhoneNumber')?.exception ?? 'ok');
    const first = draw();
    faults.reseed(9);
    expect(draw()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  test('mulberry32 is reproducible and stays in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const values = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(values);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(mulberry32(124)()).not.toBe(values[0]);
  });
});

describe('control API', () => {
  test('in-process: bindings, out-of-band group deletion, reset', async () => {
    const groupId = await newGroup();
    await associate(groupId, [NUMBERS[0]]);
    emu.control.bind(NUMBERS[1], 'SipRuleId', 'rule-9');
    expect(emu.control.getBindings()).toEqual({
      [NUMBERS[0]]: { name: 'VoiceConnectorGroupId', value: groupId },
      [NUMBERS[1]]: { name: 'SipRuleId', value: 'rule-9' },
      [NUMBERS[2]]: null,
      [NUMBERS[3]]: null,
      [NUMBERS[4]]: null,
    });
    expect(() => emu.control.bind(NUMBERS[2], 'VoiceConnectorGroupId', 'missing')).toThrow(/not found/);
    expect(() => emu.control.seedNumbers(['+0bad'])).toThrow(/Invalid E.164/);

    emu.control.deleteGroup(groupId);
    expect(emu.control.getBinding(NUMBERS[0])).toBeNull();
    await expectException(() => associate(groupId, [NUMBERS[0]]), NotFoundException, 'NotFoundException', 404);

    emu.control.setFaults({ latencyMs: 5 });
    emu.control.reset();
    expect(emu.control.snapshot()).toEqual({ numbers: [], voiceConnectors: [], groups: [] });
    expect(emu.control.getFaults().latencyMs).toBe(0);
    expect(emu.calls).toEqual([]);
    // Ids restart too, so a reset emulator behaves like a fresh one.
    expect(emu.control.createGroup({ name: 'again' }).VoiceConnectorGroupId).toBe(groupId);
  });

  test('over HTTP under /_emulator, drivable from another process', async () => {
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${emu.url}/_emulator${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, json: await res.json() as { result?: any; error?: string } };
    };
    expect((await call('POST', '/reset')).status).toBe(200);
    expect((await call('POST', '/numbers', { numbers: ['+14155550100', { number: '14155550101', productType: 'VoiceConnector' }] })).json.result)
      .toHaveLength(2);
    const vc = (await call('POST', '/voice-connectors', { name: 'edge' })).json.result.VoiceConnectorId as string;
    const group = (await call('POST', '/groups', { name: 'g', voiceConnectorIds: [vc] })).json.result;
    expect(group.VoiceConnectorItems).toEqual([{ VoiceConnectorId: vc, Priority: 1 }]);
    const groupId = group.VoiceConnectorGroupId as string;

    expect((await call('PUT', `/bindings/${encodeURIComponent('+14155550100')}`, { name: 'VoiceConnectorGroupId', value: groupId })).status).toBe(200);
    expect((await call('PUT', '/bindings/14155550101', { name: 'VoiceConnectorId', value: vc })).status).toBe(200);
    expect((await call('GET', `/groups/${groupId}/numbers`)).json.result).toEqual(['+14155550100']);
    expect((await call('GET', `/voice-connectors/${vc}/numbers`)).json.result).toEqual(['+14155550101']);
    expect((await call('GET', '/bindings/14155550100')).json.result).toEqual({ name: 'VoiceConnectorGroupId', value: groupId });
    expect((await call('DELETE', '/bindings/14155550101')).status).toBe(200);
    expect((await call('GET', '/bindings')).json.result).toEqual({ '+14155550100': { name: 'VoiceConnectorGroupId', value: groupId }, '+14155550101': null });
    expect((await call('GET', '/state')).json.result.groups).toHaveLength(1);

    // What the SDK sees agrees with the control plane.
    const listed = await client.send(new ListPhoneNumbersCommand({ FilterName: 'VoiceConnectorGroupId', FilterValue: groupId }));
    expect(listed.PhoneNumbers!.map((p) => p.PhoneNumberId)).toEqual(['+14155550100']);

    expect((await call('PUT', '/faults', { forcedErrors: { ListPhoneNumbers: { exception: 'ServiceUnavailableException', times: 1 } } })).json.result.forcedErrors)
      .toEqual({ ListPhoneNumbers: { exception: 'ServiceUnavailableException', times: 1 } });
    await expectException(() => client.send(new ListPhoneNumbersCommand({})), ServiceUnavailableException, 'ServiceUnavailableException', 503);
    expect((await call('PUT', '/faults', { serverErrorRate: 7 })).status).toBe(400);
    expect((await call('PUT', '/faults', { latencyMs: 1 })).json.result.latencyMs).toBe(1);
    expect((await call('DELETE', '/faults')).status).toBe(200);
    expect((await call('GET', '/faults')).json.result.latencyMs).toBe(0);
    expect((await call('POST', '/seed', { seed: 5 })).status).toBe(200);
    expect((await call('POST', '/seed', { seed: 'x' })).status).toBe(400);

    const calls = (await call('GET', '/calls?operation=ListPhoneNumbers')).json.result as Array<{ operation: string; status: number }>;
    expect(calls.map((c) => c.status)).toEqual([200, 503]);
    expect((await call('DELETE', '/calls')).status).toBe(200);
    expect((await call('GET', '/calls')).json.result).toEqual([]);

    expect((await call('DELETE', `/groups/${groupId}`)).status).toBe(200);
    expect((await call('GET', '/bindings/14155550100')).json.result).toBeNull();
    expect(await call('DELETE', '/groups/missing')).toEqual({ status: 404, json: { error: 'Voice connector group missing not found' } });
    expect((await call('GET', '/nothing-here')).status).toBe(404);
    expect((await call('POST', '/numbers', { numbers: 'x' })).status).toBe(400);
  });
});

describe('standalone CLI (cdk-chime-vcg emulator)', () => {
  test('prints its URL and how to point clients at it, serves seeded and bound numbers, stops on SIGTERM', async () => {
    const root = path.join(__dirname, '..', '..');
    const child = spawn(path.join(root, 'node_modules', '.bin', 'ts-node'),
      ['--project', 'test/tsconfig.json', 'tools/cli/index.ts', 'emulator', '--seed', '3', '--seed-numbers', '+12065550100,12065550101',
        '--group', 'demo', '--bind', '+12065550102'],
      { cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (m && output.includes('Ctrl-C')) resolve(m[1]);
        });
        child.once('exit', () => reject(new Error(`CLI exited early: ${output}`)));
      });
      expect(output).toContain(`export AWS_ENDPOINT_URL_CHIME_SDK_VOICE=${url} AWS_REGION=us-east-1`);
      const groupId = /group 'demo' has id (\S+) with 1 number\(s\) bound/.exec(output)![1];

      const cliClient = newClient(url);
      try {
        const out = await cliClient.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId, E164PhoneNumbers: ['+12065550101'] }));
        expect(out.PhoneNumberErrors).toEqual([]);
        const listed = await cliClient.send(new ListPhoneNumbersCommand({ FilterName: 'VoiceConnectorGroupId', FilterValue: groupId }));
        expect(listed.PhoneNumbers!.map((p) => p.PhoneNumberId).sort()).toEqual(['+12065550101', '+12065550102']);
      } finally {
        cliClient.destroy();
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  test('POST /_emulator/shutdown exists only when the emulator was started with onShutdown, and calls it after answering', async () => {
    const plain = await startEmulator();
    try {
      expect((await fetch(`${plain.url}/_emulator/shutdown`, { method: 'POST' })).status).toBe(404);
    } finally {
      await plain.close();
    }
    let stopped = 0;
    const stoppable = await startEmulator({ onShutdown: () => { stopped++; } });
    try {
      const response = await fetch(`${stoppable.url}/_emulator/shutdown`, { method: 'POST' });
      expect(response.status).toBe(200);
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stopped).toBe(1);
    } finally {
      await stoppable.close();
    }
  });
});
