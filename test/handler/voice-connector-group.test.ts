import {
  BadRequestException, ChimeSDKVoiceClient, ConflictException, CreateVoiceConnectorGroupCommand, DeleteVoiceConnectorGroupCommand,
  ForbiddenException, GetVoiceConnectorGroupCommand, ListVoiceConnectorGroupsCommand, NotFoundException, UpdateVoiceConnectorGroupCommand,
  type VoiceConnectorGroup,
} from '@aws-sdk/client-chime-sdk-voice';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DeadlineRetryStrategy } from '../../lambda/shared/client';
import { createLogger } from '../../lambda/shared/log';
import { groupClient } from '../../lambda/voice-connector-group/client';
import { handler } from '../../lambda/voice-connector-group/index';
import { onGroupEvent, planGroupUpdate } from '../../lambda/voice-connector-group/reconcile';
import { InvalidGroupPropertiesError, parseGroupRequest, parseGroupSpec, type GroupSpec } from '../../lambda/voice-connector-group/request';

const GROUP_ID = '00000000-0000-4000-8000-000000000001';
const GROUP_ARN = `arn:aws:chime:us-east-1:123456789012:vcg/${GROUP_ID}`;
const meta = { $metadata: {} };

const mock = mockClient(ChimeSDKVoiceClient);
const log = createLogger('ERROR', () => undefined);

/** Properties as CloudFormation delivers them: every scalar a string. */
function props(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    SchemaVersion: '1',
    Name: 'support-lines',
    VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: '1' }, { VoiceConnectorId: 'vc-b', Priority: '2' }],
    ...overrides,
  };
}

function event(requestType: 'Create' | 'Update' | 'Delete', properties = props(), old = props()): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'token',
    ResponseURL: 'https://example.invalid',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'Group',
    ResourceType: 'Custom::VoiceConnectorGroup',
    ResourceProperties: properties as any,
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' };
  if (requestType === 'Update') return { ...base, RequestType: 'Update', PhysicalResourceId: GROUP_ID, OldResourceProperties: old as any };
  return { ...base, RequestType: 'Delete', PhysicalResourceId: GROUP_ID };
}

function group(overrides: Partial<VoiceConnectorGroup> = {}): VoiceConnectorGroup {
  return {
    VoiceConnectorGroupId: GROUP_ID,
    VoiceConnectorGroupArn: GROUP_ARN,
    Name: 'support-lines',
    VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: 1 }, { VoiceConnectorId: 'vc-b', Priority: 2 }],
    ...overrides,
  };
}

const run = (e: CloudFormationCustomResourceEvent) => onGroupEvent(parseGroupRequest(e), groupClient(Date.now() + 60_000), log);
const data = { VoiceConnectorGroupId: GROUP_ID, VoiceConnectorGroupArn: GROUP_ARN };

beforeEach(() => {
  mock.reset();
  // No group of the declared name yet; a group with no voice connectors left to remove.
  mock.on(ListVoiceConnectorGroupsCommand).resolves({ ...meta, VoiceConnectorGroups: [] });
  mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group({ VoiceConnectorItems: [] }) });
});

describe('Create finds its own group by name (a repeated delivery must not make a second group)', () => {
  test('a group of the declared name created within the hour is this event\'s own: adopted, nothing created', async () => {
    const recent = group({ CreatedTimestamp: new Date(Date.now() - 5 * 60_000) });
    mock.on(ListVoiceConnectorGroupsCommand).resolves({ ...meta, VoiceConnectorGroups: [group({ Name: 'other', VoiceConnectorGroupId: 'g-2' }), recent] });
    await expect(run(event('Create'))).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: data });
    expect(mock).toHaveReceivedCommandTimes(CreateVoiceConnectorGroupCommand, 0);
  });

  test('an older group of the declared name is someone else\'s: an error naming it, nothing created', async () => {
    mock.on(ListVoiceConnectorGroupsCommand).resolves({ ...meta, VoiceConnectorGroups: [group({ CreatedTimestamp: new Date('2026-01-01T00:00:00Z') })] });
    await expect(run(event('Create'))).rejects.toThrow(/A voice connector group named "support-lines" already exists \(00000000-0000-4000-8000-000000000001/);
    expect(mock).toHaveReceivedCommandTimes(CreateVoiceConnectorGroupCommand, 0);
  });
});

test('Delete removes the group\'s voice connectors before deleting it', async () => {
  mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
  mock.on(UpdateVoiceConnectorGroupCommand).resolves(meta);
  mock.on(DeleteVoiceConnectorGroupCommand).resolves(meta);
  await run(event('Delete'));
  expect(mock).toHaveReceivedNthCommandWith(2, UpdateVoiceConnectorGroupCommand, { VoiceConnectorGroupId: GROUP_ID, Name: 'support-lines', VoiceConnectorItems: [] });
  expect(mock).toHaveReceivedCommandTimes(DeleteVoiceConnectorGroupCommand, 1);
});

describe('Create', () => {
  test('creates the group with the declared name and items; the physical id is the group id', async () => {
    mock.on(CreateVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    await expect(run(event('Create'))).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: data });
    expect(mock).toHaveReceivedCommandTimes(CreateVoiceConnectorGroupCommand, 1);
    expect(mock).toHaveReceivedCommandWith(CreateVoiceConnectorGroupCommand, {
      Name: 'support-lines', VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: 1 }, { VoiceConnectorId: 'vc-b', Priority: 2 }],
    });
    const input = mock.commandCalls(CreateVoiceConnectorGroupCommand)[0].args[0].input;
    expect(input).not.toHaveProperty('CallDistributionType');
  });

  test('sends CallDistributionType when declared', async () => {
    mock.on(CreateVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    await run(event('Create', props({ CallDistributionType: 'LoadBalancedDistribution' })));
    expect(mock).toHaveReceivedCommandWith(CreateVoiceConnectorGroupCommand, { CallDistributionType: 'LoadBalancedDistribution' });
  });

  test('a refused Create fails naming the group, the error code and what to check', async () => {
    mock.on(CreateVoiceConnectorGroupCommand).rejects(new BadRequestException({ $metadata: {}, message: 'Voice connector vc-b not found' }));
    await expect(run(event('Create'))).rejects.toThrow(
      'Could not create voice connector group "support-lines": BadRequestException: Voice connector vc-b not found. ' +
      'Check that every voice connector (vc-a, vc-b) exists in this account and region, then deploy again.',
    );
  });

  test('access denied names the role as the thing to check', async () => {
    mock.on(CreateVoiceConnectorGroupCommand).rejects(new ForbiddenException({ $metadata: {}, message: 'no' }));
    await expect(run(event('Create'))).rejects.toThrow(/ForbiddenException: no\. The handler's role lacks a chime: permission/);
  });
});

describe('Update', () => {
  test('no change: reads the group and writes nothing, same physical id and data', async () => {
    // The service may return the items in another order: still no change.
    mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group({ VoiceConnectorItems: [{ VoiceConnectorId: 'vc-b', Priority: 2 }, { VoiceConnectorId: 'vc-a', Priority: 1 }] }) });
    await expect(run(event('Update'))).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: data });
    expect(mock).toHaveReceivedCommandWith(GetVoiceConnectorGroupCommand, { VoiceConnectorGroupId: GROUP_ID });
    expect(mock).toHaveReceivedCommandTimes(UpdateVoiceConnectorGroupCommand, 0);
  });

  test('rename: updates in place with the full declared state, keeping the physical id', async () => {
    mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    mock.on(UpdateVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group({ Name: 'renamed' }) });
    await expect(run(event('Update', props({ Name: 'renamed' })))).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: data });
    expect(mock).toHaveReceivedCommandWith(UpdateVoiceConnectorGroupCommand, {
      VoiceConnectorGroupId: GROUP_ID, Name: 'renamed', VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: 1 }, { VoiceConnectorId: 'vc-b', Priority: 2 }],
    });
  });

  test('a changed priority, an added or a removed voice connector is an update', async () => {
    mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    mock.on(UpdateVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    await run(event('Update', props({ VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: '3' }] })));
    expect(mock).toHaveReceivedCommandWith(UpdateVoiceConnectorGroupCommand, { VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: 3 }] });
    await run(event('Update', props({ VoiceConnectorItems: [] })));
    expect(mock.commandCalls(UpdateVoiceConnectorGroupCommand)[1].args[0].input).toMatchObject({ VoiceConnectorItems: [] });
  });

  test('a removed CallDistributionType leaves the service setting alone; a declared one that differs is sent', async () => {
    mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group({ CallDistributionType: 'LoadBalancedDistribution' }) });
    mock.on(UpdateVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    await run(event('Update'));
    expect(mock).toHaveReceivedCommandTimes(UpdateVoiceConnectorGroupCommand, 0);
    await run(event('Update', props({ CallDistributionType: 'PriorityWeightedDistribution' })));
    expect(mock).toHaveReceivedCommandWith(UpdateVoiceConnectorGroupCommand, { CallDistributionType: 'PriorityWeightedDistribution' });
  });

  test('a group deleted outside CloudFormation fails naming the group and what to do', async () => {
    mock.on(GetVoiceConnectorGroupCommand).rejects(new NotFoundException({ $metadata: {}, message: 'gone' }));
    await expect(run(event('Update'))).rejects.toThrow(
      `Voice connector group ${GROUP_ID} ("support-lines") no longer exists: it was deleted outside CloudFormation. Remove the VoiceConnectorGroup`,
    );
    expect(mock).toHaveReceivedCommandTimes(UpdateVoiceConnectorGroupCommand, 0);
  });

  test('a refused update fails naming the group and the code', async () => {
    mock.on(GetVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    mock.on(UpdateVoiceConnectorGroupCommand).rejects(new BadRequestException({ $metadata: {}, message: 'bad vc' }));
    await expect(run(event('Update', props({ Name: 'x' })))).rejects.toThrow(`Could not update voice connector group ${GROUP_ID} ("x"): BadRequestException: bad vc.`);
  });
});

describe('Delete', () => {
  test('deletes the group by its physical id, without reading the properties', async () => {
    mock.on(DeleteVoiceConnectorGroupCommand).resolves(meta);
    await expect(run(event('Delete', { garbage: true }))).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: {} });
    expect(mock).toHaveReceivedCommandWith(DeleteVoiceConnectorGroupCommand, { VoiceConnectorGroupId: GROUP_ID });
  });

  test('a group that is already gone is success (deleted by hand, or the same Delete twice)', async () => {
    mock.on(DeleteVoiceConnectorGroupCommand).rejects(new NotFoundException({ $metadata: {}, message: 'not found' }));
    await expect(run(event('Delete'))).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: {} });
  });

  test('a group that still has numbers (409) fails naming the group, the cause and what to do', async () => {
    mock.on(DeleteVoiceConnectorGroupCommand).rejects(new ConflictException({ $metadata: {}, message: 'has numbers' }));
    const error = await run(event('Delete')).catch((e: Error) => e.message);
    expect(error).toContain(`Voice connector group ${GROUP_ID} still has phone numbers bound to it, so it can not be deleted (ConflictException).`);
    expect(error).toContain('remove them from the VoiceConnectorGroupPhoneNumbers that declare them');
    expect(error).toContain(`disassociate-phone-numbers-from-voice-connector-group --voice-connector-group-id ${GROUP_ID}`);
    expect(error).toContain('removalPolicy: RemovalPolicy.RETAIN');
  });

  test('other errors propagate with the code', async () => {
    mock.on(DeleteVoiceConnectorGroupCommand).rejects(new ForbiddenException({ $metadata: {}, message: 'denied' }));
    await expect(run(event('Delete'))).rejects.toThrow(`Could not delete voice connector group ${GROUP_ID}: ForbiddenException: denied.`);
  });
});

describe('parsing', () => {
  test('Priority arrives as a string from CloudFormation and as a number from direct calls', () => {
    expect(parseGroupSpec(props()).items).toEqual([{ VoiceConnectorId: 'vc-a', Priority: 1 }, { VoiceConnectorId: 'vc-b', Priority: 2 }]);
    expect(parseGroupSpec(props({ VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: 7 }] })).items).toEqual([{ VoiceConnectorId: 'vc-a', Priority: 7 }]);
    expect(parseGroupSpec(props({ VoiceConnectorItems: undefined })).items).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['unknown schema version', { SchemaVersion: '9' }, /SchemaVersion "9" is not one this handler reads \(1\)/],
    ['missing name', { Name: undefined }, /Name must be a non-empty string/],
    ['items not a list', { VoiceConnectorItems: 'vc-a' }, /VoiceConnectorItems must be a list/],
    ['priority out of range', { VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: '0' }] }, /Priority of voice connector vc-a must be an integer from 1 to 99, got "0"/],
    ['priority not a number', { VoiceConnectorItems: [{ VoiceConnectorId: 'vc-a', Priority: '1.5' }] }, /got "1\.5"/],
    ['blank voice connector', { VoiceConnectorItems: [{ VoiceConnectorId: '', Priority: '1' }] }, /VoiceConnectorItems\[0\]\.VoiceConnectorId must be a non-empty string/],
    ['unknown distribution', { CallDistributionType: 'Random' }, /CallDistributionType must be one of LoadBalancedDistribution, PriorityWeightedDistribution, got "Random"/],
  ])('%s is an InvalidGroupPropertiesError', (_, overrides, message) => {
    expect(() => parseGroupSpec(props(overrides))).toThrow(InvalidGroupPropertiesError);
    expect(() => parseGroupSpec(props(overrides))).toThrow(message);
  });
});

describe('planGroupUpdate', () => {
  const spec: GroupSpec = { name: 'n', items: [{ VoiceConnectorId: 'a', Priority: 1 }], callDistributionType: undefined };
  test.each<[string, Partial<VoiceConnectorGroup>, boolean]>([
    ['identical', { Name: 'n', VoiceConnectorItems: [{ VoiceConnectorId: 'a', Priority: 1 }] }, false],
    ['renamed', { Name: 'm', VoiceConnectorItems: [{ VoiceConnectorId: 'a', Priority: 1 }] }, true],
    ['other priority', { Name: 'n', VoiceConnectorItems: [{ VoiceConnectorId: 'a', Priority: 2 }] }, true],
    ['extra item', { Name: 'n', VoiceConnectorItems: [{ VoiceConnectorId: 'a', Priority: 1 }, { VoiceConnectorId: 'b', Priority: 1 }] }, true],
    ['no items', { Name: 'n' }, true],
    ['a distribution type nobody declared', { Name: 'n', VoiceConnectorItems: [{ VoiceConnectorId: 'a', Priority: 1 }], CallDistributionType: 'LoadBalancedDistribution' }, false],
  ])('%s -> update: %p', (_, current, expected) => {
    expect(planGroupUpdate('g', current, spec) !== undefined).toBe(expected);
  });
});

describe('Lambda entry point', () => {
  test('handler() parses the event and answers through the module client', async () => {
    mock.on(CreateVoiceConnectorGroupCommand).resolves({ ...meta, VoiceConnectorGroup: group() });
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(handler(event('Create'), { getRemainingTimeInMillis: () => 60_000 })).resolves.toEqual({ PhysicalResourceId: GROUP_ID, Data: data });
    } finally {
      write.mockRestore();
    }
  });

  test('the group client retries with the deploy-time DeadlineRetryStrategy', async () => {
    const strategy = await groupClient(Date.now() + 60_000).config.retryStrategy();
    expect(strategy).toBeInstanceOf(DeadlineRetryStrategy);
  });
});
