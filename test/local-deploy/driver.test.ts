import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import {
  buildEvent, CfnResource, CREATE_FAILED_PHYSICAL_ID_MARKER, CustomResourceHandler, LIBRARY_HANDLERS, LocalDeployDriver,
  OperationResult, PHONE_NUMBERS_HANDLER_ASSET, readCloudAssembly, StackTemplate, synthApp,
} from '../../tools/local-deploy';

const GROUP_TYPE = 'Custom::VoiceConnectorGroup';
const TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:provider-framework';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Binds numbers to groups in memory; answers like the real handler's contract (physical id from the group). */
class FakeBindings {
  public readonly received: CloudFormationCustomResourceEvent[] = [];
  public readonly contexts: Context[] = [];
  public failWhen?: (event: CloudFormationCustomResourceEvent) => string | undefined;

  public readonly handler: CustomResourceHandler = async (event, context) => {
    this.received.push(event);
    this.contexts.push(context);
    const reason = this.failWhen?.(event);
    if (reason) throw new Error(reason);
    if (event.RequestType === 'Delete') return undefined;
    const numbers = (event.ResourceProperties.E164PhoneNumbers ?? []) as string[];
    return { PhysicalResourceId: `group:${event.ResourceProperties.VoiceConnectorGroupId}`, Data: { DeclaredCount: numbers.length } };
  };
}

function binding(group: string, numbers: string[], extra: Partial<CfnResource> = {}): CfnResource {
  return {
    Type: BINDING_RESOURCE_TYPE,
    Properties: { ServiceToken: TOKEN, VoiceConnectorGroupId: group, E164PhoneNumbers: numbers, ForceAssociate: false },
    ...extra,
  };
}

function stack(resources: Record<string, CfnResource>, rest: Record<string, unknown> = {}): StackTemplate {
  return { stackName: 'TestStack', template: { Resources: resources, ...rest } };
}

function driverFor(fake: FakeBindings, options: Partial<ConstructorParameters<typeof LocalDeployDriver>[0]> = {}): LocalDeployDriver {
  return new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: fake.handler }, ...options });
}

/** `<phase> <RequestType> <logical id> <event physical id> <ok|FAILED>` per event sent. */
function summary(result: OperationResult): string[] {
  return result.events.map((e) => `${e.phase} ${e.requestType} ${e.logicalResourceId} ${e.physicalResourceId ?? '-'} ${e.ok ? 'ok' : 'FAILED'}`);
}

describe('first deploy', () => {
  test('sends Create with a CloudFormation-shaped event and Lambda context, and records the deployed state', async () => {
    const fake = new FakeBindings();
    const result = await driverFor(fake).deploy(stack({ Binding: binding('g1', ['+12065550100']) }));

    expect(result.status).toBe('CREATE_COMPLETE');
    expect(summary(result)).toEqual(['deploy Create Binding - ok']);
    const event = fake.received[0];
    expect(event).toMatchObject({
      RequestType: 'Create',
      ServiceToken: TOKEN,
      LogicalResourceId: 'Binding',
      ResourceType: BINDING_RESOURCE_TYPE,
      StackId: result.stackId,
    });
    expect(event).not.toHaveProperty('PhysicalResourceId');
    expect(event).not.toHaveProperty('OldResourceProperties');
    expect(event.StackId).toMatch(/^arn:aws:cloudformation:us-east-1:123456789012:stack\/TestStack\/[0-9a-f-]{36}$/);
    expect(event.RequestId).toMatch(UUID);
    expect(event.ResponseURL).toMatch(/^https:\/\/cloudformation-custom-resource-response-useast1\.s3\.amazonaws\.com\//);
    const context = fake.contexts[0];
    expect(context.awsRequestId).toMatch(UUID);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(14 * 60 * 1000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(15 * 60 * 1000);
    expect(result.resources.Binding).toEqual({
      logicalId: 'Binding',
      resourceType: BINDING_RESOURCE_TYPE,
      physicalResourceId: 'group:g1',
      properties: { ServiceToken: TOKEN, VoiceConnectorGroupId: 'g1', E164PhoneNumbers: ['+12065550100'], ForceAssociate: 'false' },
      data: { DeclaredCount: 1 },
    });
  });

  test('stringifies booleans and numbers at any depth, as CloudFormation does, and keeps the ServiceToken', async () => {
    const fake = new FakeBindings();
    await driverFor(fake).deploy(stack({
      Binding: {
        Type: BINDING_RESOURCE_TYPE,
        Properties: {
          ServiceToken: TOKEN,
          ForceAssociate: true,
          Retries: 5,
          Ratio: 2.5,
          Nested: { Flag: false, List: [1, true, 'x', { Deep: 0 }] },
        },
      },
    }));

    expect(fake.received[0].ResourceProperties).toEqual({
      ServiceToken: TOKEN,
      ForceAssociate: 'true',
      Retries: '5',
      Ratio: '2.5',
      Nested: { Flag: 'false', List: ['1', 'true', 'x', { Deep: '0' }] },
    });
  });

  test('a provider answer without PhysicalResourceId gets the RequestId, as the Provider framework does', async () => {
    const driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: async () => ({ Data: {} }) } });
    const result = await driver.deploy(stack({ Binding: binding('g1', []) }));

    expect(result.resources.Binding.physicalResourceId).toBe(result.events[0].event.RequestId);
  });
});

describe('update', () => {
  test('sends Update with the physical id and the old properties', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    const first = await driver.deploy(stack({ Binding: binding('g1', ['+12065550100']) }));
    const second = await driver.deploy(stack({ Binding: binding('g1', ['+12065550100', '+12065550101']) }));

    expect(second.status).toBe('UPDATE_COMPLETE');
    expect(summary(second)).toEqual(['deploy Update Binding group:g1 ok']);
    const event = fake.received[1];
    expect(event).toMatchObject({
      RequestType: 'Update',
      PhysicalResourceId: 'group:g1',
      StackId: first.stackId,
      ResourceProperties: { E164PhoneNumbers: ['+12065550100', '+12065550101'], ForceAssociate: 'false' },
      OldResourceProperties: { ServiceToken: TOKEN, VoiceConnectorGroupId: 'g1', E164PhoneNumbers: ['+12065550100'], ForceAssociate: 'false' },
    });
    expect(event.RequestId).not.toBe(fake.received[0].RequestId);
    expect(second.resources.Binding.data).toEqual({ DeclaredCount: 2 });
  });

  test('sends nothing when the stringified properties are unchanged', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ Binding: binding('g1', ['+12065550100']) }));
    const stringly = binding('g1', ['+12065550100']);
    const again = await driver.deploy(stack({
      // Same values in another key order, the boolean already a string: CloudFormation sees no change.
      Binding: { ...stringly, Properties: { ForceAssociate: 'false', E164PhoneNumbers: ['+12065550100'], VoiceConnectorGroupId: 'g1', ServiceToken: TOKEN } },
    }));

    expect(again.events).toEqual([]);
    expect(fake.received).toHaveLength(1);
    expect(again.status).toBe('UPDATE_COMPLETE');
  });

  test('an unchanged template leaves the stack status as it was', async () => {
    const driver = driverFor(new FakeBindings());
    await driver.deploy(stack({ Binding: binding('g1', ['+12065550100']) }));
    const again = await driver.deploy(stack({ Binding: binding('g1', ['+12065550100']) }));

    expect(again.status).toBe('CREATE_COMPLETE');
    expect(again.events).toEqual([]);
  });

  test('a new physical id is a replacement: the old id gets Delete with the old properties after every create and update', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ Binding: binding('g1', ['+12065550100']) }));
    const result = await driver.deploy(stack({
      Binding: binding('g2', ['+12065550100']),
      Later: binding('g3', ['+12065550199']),
    }));

    expect(summary(result)).toEqual([
      'deploy Update Binding group:g1 ok',
      'deploy Create Later - ok',
      'cleanup Delete Binding group:g1 ok',
    ]);
    expect(result.events[2].event.ResourceProperties).toEqual({
      ServiceToken: TOKEN, VoiceConnectorGroupId: 'g1', E164PhoneNumbers: ['+12065550100'], ForceAssociate: 'false',
    });
    expect(result.events[2].event).not.toHaveProperty('OldResourceProperties');
    expect(result.resources.Binding.physicalResourceId).toBe('group:g2');
  });

  test('UpdateReplacePolicy Retain keeps the replaced physical resource', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    const retained = { UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Retain' };
    await driver.deploy(stack({ Binding: binding('g1', ['+12065550100'], retained) }));
    const result = await driver.deploy(stack({ Binding: binding('g2', ['+12065550100'], retained) }));

    expect(summary(result)).toEqual(['deploy Update Binding group:g1 ok']);
  });

  test('a resource removed from the template gets Delete with its last properties in the cleanup phase', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ Keep: binding('g1', ['+12065550100']), Gone: binding('g2', ['+12065550101']) }));
    const result = await driver.deploy(stack({ Keep: binding('g1', ['+12065550100', '+12065550102']) }));

    expect(summary(result)).toEqual(['deploy Update Keep group:g1 ok', 'cleanup Delete Gone group:g2 ok']);
    expect(result.events[1].event.ResourceProperties).toMatchObject({ VoiceConnectorGroupId: 'g2', E164PhoneNumbers: ['+12065550101'] });
    expect(Object.keys(result.resources)).toEqual(['Keep']);
  });

  test('a removed resource whose DeletionPolicy was Retain gets no event and is forgotten', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ Keep: binding('g1', ['+1']), Gone: binding('g2', ['+2'], { DeletionPolicy: 'Retain' }) }));
    const result = await driver.deploy(stack({ Keep: binding('g1', ['+1']) }));

    expect(result.events).toEqual([]);
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(Object.keys(result.resources)).toEqual(['Keep']);
    expect(summary(await driver.destroy('TestStack'))).toEqual(['destroy Delete Keep group:g1 ok']);
  });

  test('a failed cleanup Delete does not fail the deploy', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ Keep: binding('g1', ['+1']), Gone: binding('g2', ['+2']) }));
    fake.failWhen = (e) => (e.RequestType === 'Delete' ? 'AccessDenied' : undefined);
    const result = await driver.deploy(stack({ Keep: binding('g1', ['+1']) }));

    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(result.events[0]).toMatchObject({ phase: 'cleanup', ok: false, error: 'AccessDenied' });
    expect(Object.keys(result.resources)).toEqual(['Keep']);
  });
});

describe('failures and rollback', () => {
  test('a failed Create on the first deploy deletes what was created, but not the failed resource', async () => {
    const fake = new FakeBindings();
    fake.failWhen = (e) => (e.LogicalResourceId === 'Bad' && e.RequestType === 'Create' ? 'Conflict: +2 is bound elsewhere' : undefined);
    const driver = driverFor(fake);
    const template = stack({ Good: binding('g1', ['+1']), Bad: binding('g2', ['+2']), Never: binding('g3', ['+3']) });
    const result = await driver.deploy(template);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toBe('Bad: Conflict: +2 is bound elsewhere');
    expect(summary(result)).toEqual([
      'deploy Create Good - ok',
      'deploy Create Bad - FAILED',
      'rollback Delete Good group:g1 ok',
    ]);
    expect(result.resources).toEqual({});

    fake.failWhen = undefined;
    const retry = await driver.deploy(template);
    expect(retry.status).toBe('CREATE_COMPLETE');
    expect(retry.events.map((e) => e.requestType)).toEqual(['Create', 'Create', 'Create']);
    expect(retry.stackId).not.toBe(result.stackId);
  });

  test('a failed rollback Delete leaves the stack ROLLBACK_FAILED, which refuses updates', async () => {
    const fake = new FakeBindings();
    fake.failWhen = (e) => (e.LogicalResourceId === 'Bad' || e.RequestType === 'Delete' ? 'ServiceFailure' : undefined);
    const driver = driverFor(fake);
    const template = stack({ Good: binding('g1', ['+1']), Bad: binding('g2', ['+2']) });
    const result = await driver.deploy(template);

    expect(result.status).toBe('ROLLBACK_FAILED');
    expect(Object.keys(result.resources)).toEqual(['Good']);
    await expect(driver.deploy(template)).rejects.toThrow(/ROLLBACK_FAILED/);
  });

  test('a failed Update rolls back every updated resource and the failed one with swapped properties, then deletes what was created', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ A: binding('gA', ['+1']), B: binding('gB', ['+2']) }));
    fake.failWhen = (e) => (e.LogicalResourceId === 'B' && e.RequestType === 'Update' && e.ResourceProperties.E164PhoneNumbers.length === 2
      ? 'NotFound: +4'
      : undefined);
    const result = await driver.deploy(stack({ A: binding('gA', ['+1', '+3']), D: binding('gD', ['+5']), B: binding('gB', ['+2', '+4']) }));

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(result.failure).toBe('B: NotFound: +4');
    expect(summary(result)).toEqual([
      'deploy Update A group:gA ok',
      'deploy Create D - ok',
      'deploy Update B group:gB FAILED',
      'rollback Update A group:gA ok',
      'rollback Update B group:gB ok',
      'rollback-cleanup Delete D group:gD ok',
    ]);
    const [rollbackA, rollbackB] = [result.events[3].event, result.events[4].event];
    expect(rollbackA).toMatchObject({ ResourceProperties: { E164PhoneNumbers: ['+1'] }, OldResourceProperties: { E164PhoneNumbers: ['+1', '+3'] } });
    expect(rollbackB).toMatchObject({ ResourceProperties: { E164PhoneNumbers: ['+2'] }, OldResourceProperties: { E164PhoneNumbers: ['+2', '+4'] } });
    expect(Object.keys(result.resources).sort()).toEqual(['A', 'B']);
    expect(result.resources.A.properties.E164PhoneNumbers).toEqual(['+1']);
    expect(result.resources.A.data).toEqual({ DeclaredCount: 1 });

    fake.failWhen = undefined;
    const next = await driver.deploy(stack({ A: binding('gA', ['+1', '+3']), B: binding('gB', ['+2']) }));
    expect(next.events[0].event).toMatchObject({ RequestType: 'Update', OldResourceProperties: { E164PhoneNumbers: ['+1'] } });
  });

  test('rolling back a replacement: Update with the old properties, then Delete of the id the rollback left', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ A: binding('g1', ['+1']), B: binding('gB', ['+2']) }));
    fake.failWhen = (e) => (e.LogicalResourceId === 'B' && e.RequestType === 'Update' && e.ResourceProperties.E164PhoneNumbers.length === 2 ? 'boom' : undefined);
    const result = await driver.deploy(stack({ A: binding('g2', ['+1']), B: binding('gB', ['+2', '+3']) }));

    expect(summary(result)).toEqual([
      'deploy Update A group:g1 ok',
      'deploy Update B group:gB FAILED',
      'rollback Update A group:g2 ok',
      'rollback Update B group:gB ok',
      'rollback-cleanup Delete A group:g2 ok',
    ]);
    expect(result.events[2].event.ResourceProperties.VoiceConnectorGroupId).toBe('g1');
    expect(result.events[4].event.ResourceProperties.VoiceConnectorGroupId).toBe('g2');
    expect(result.resources.A.physicalResourceId).toBe('group:g1');
  });

  test('a failed rollback Update leaves the stack UPDATE_ROLLBACK_FAILED, which refuses updates but can be destroyed', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({ A: binding('gA', ['+1']) }));
    fake.failWhen = (e) => (e.RequestType === 'Update' ? 'Throttling' : undefined);
    const result = await driver.deploy(stack({ A: binding('gA', ['+1', '+2']) }));

    expect(result.status).toBe('UPDATE_ROLLBACK_FAILED');
    expect(summary(result)).toEqual(['deploy Update A group:gA FAILED', 'rollback Update A group:gA FAILED']);
    await expect(driver.deploy(stack({ A: binding('gA', ['+1']) }))).rejects.toThrow(/UPDATE_ROLLBACK_FAILED/);
    const destroyed = await driver.destroy('TestStack');
    expect(destroyed.status).toBe('DELETE_COMPLETE');
    expect(summary(destroyed)).toEqual(['destroy Delete A group:gA ok']);
  });

  test('a handler that outlives its time budget fails with Lambda\'s timeout message', async () => {
    const driver = new LocalDeployDriver({
      handlers: { [BINDING_RESOURCE_TYPE]: () => new Promise((resolve) => setTimeout(() => resolve({}), 200)) },
      timeoutMs: 20,
    });
    const result = await driver.deploy(stack({ A: binding('g', []) }));

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toBe('A: Task timed out after 0.02 seconds');
  });

  test('a response over CloudFormation\'s 4 KB limit fails the resource', async () => {
    const driver = new LocalDeployDriver({
      handlers: { [BINDING_RESOURCE_TYPE]: async () => ({ PhysicalResourceId: 'p', Data: { Numbers: 'x'.repeat(4096) } }) },
    });
    const result = await driver.deploy(stack({ A: binding('g', []) }));

    expect(result.failure).toMatch(/^A: Response object is too long/);
  });
});

describe('ordering', () => {
  const ordered = () => stack({
    C: {
      Type: BINDING_RESOURCE_TYPE,
      Properties: {
        ServiceToken: TOKEN,
        VoiceConnectorGroupId: { 'Fn::GetAtt': ['Group', 'VoiceConnectorGroupId'] },
        Count: { 'Fn::GetAtt': ['B', 'DeclaredCount'] },
        Peer: { Ref: 'B' },
      },
    },
    B: binding('gB', ['+1', '+2'], { DependsOn: 'Group' }),
    Group: { Type: GROUP_TYPE, Properties: { ServiceToken: TOKEN, Name: 'main' } },
  });
  const groupHandler: CustomResourceHandler = async (event) => (event.RequestType === 'Delete'
    ? undefined
    : { PhysicalResourceId: 'vcg-123', Data: { VoiceConnectorGroupId: 'vcg-123' } });

  test.each(['topological', 'reverse', 'parallel'] as const)('%s order honours DependsOn, Ref and Fn::GetAtt, forwards and on destroy', async (order) => {
    const fake = new FakeBindings();
    const driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: fake.handler, [GROUP_TYPE]: groupHandler }, order });
    const created = await driver.deploy(ordered());

    expect(created.events.map((e) => `${e.requestType} ${e.logicalResourceId}`)).toEqual(['Create Group', 'Create B', 'Create C']);
    expect(fake.received[1].ResourceProperties).toMatchObject({ VoiceConnectorGroupId: 'vcg-123', Count: '2', Peer: 'group:gB' });
    const destroyed = await driver.destroy('TestStack');
    expect(destroyed.events.map((e) => `${e.requestType} ${e.logicalResourceId}`)).toEqual(['Delete C', 'Delete B', 'Delete Group']);
    expect(destroyed.status).toBe('DELETE_COMPLETE');
  });

  test('independent resources run in template order, or reversed with order: reverse', async () => {
    const template = stack({ X: binding('gX', []), Y: binding('gY', []), Z: binding('gZ', []) });
    const topological = await driverFor(new FakeBindings()).deploy(template);
    const reverse = await driverFor(new FakeBindings(), { order: 'reverse' }).deploy(template);

    expect(topological.events.map((e) => e.logicalResourceId)).toEqual(['X', 'Y', 'Z']);
    expect(reverse.events.map((e) => e.logicalResourceId)).toEqual(['Z', 'Y', 'X']);
  });

  test('parallel order runs independent resources concurrently and dependents only after their dependencies finish', async () => {
    const log: string[] = [];
    let arrived = 0;
    let releaseBoth!: () => void;
    const bothStarted = new Promise<void>((resolve) => (releaseBoth = resolve));
    const handler: CustomResourceHandler = async (event) => {
      log.push(`start ${event.LogicalResourceId}`);
      if (event.LogicalResourceId !== 'Z') {
        arrived += 1;
        if (arrived === 2) releaseBoth();
        // Only resolves once both X and Y are inside the handler at the same time.
        await bothStarted;
      }
      log.push(`end ${event.LogicalResourceId}`);
      return { PhysicalResourceId: event.LogicalResourceId };
    };
    const driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: handler }, order: 'parallel', timeoutMs: 2000 });
    const result = await driver.deploy(stack({
      X: binding('gX', []),
      Y: binding('gY', []),
      Z: binding('gZ', [], { DependsOn: ['X', 'Y'] }),
    }));

    expect(result.status).toBe('CREATE_COMPLETE');
    expect(log.slice(0, 2).sort()).toEqual(['start X', 'start Y']);
    expect(log.slice(4)).toEqual(['start Z', 'end Z']);
  });

  test('in parallel order a failure starts nothing new, lets running handlers finish, then rolls those back too', async () => {
    const fake = new FakeBindings();
    const slowY: CustomResourceHandler = async (event, context) => {
      if (event.LogicalResourceId === 'Y' && event.RequestType === 'Create') await new Promise((resolve) => setTimeout(resolve, 20));
      if (event.LogicalResourceId === 'X') throw new Error('Conflict');
      return fake.handler(event, context);
    };
    const driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: slowY }, order: 'parallel' });
    const result = await driver.deploy(stack({
      X: binding('gX', []),
      Y: binding('gY', []),
      AfterX: binding('gZ', [], { DependsOn: 'X' }),
    }));

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(summary(result)).toEqual(['deploy Create X - FAILED', 'deploy Create Y - ok', 'rollback Delete Y group:gY ok']);
  });

  test('destroy skips Retain and stops short of the dependencies of a resource that failed to delete', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({
      Base: binding('g0', []),
      Dependent: binding('g1', [], { DependsOn: 'Base' }),
      Kept: binding('g2', [], { DeletionPolicy: 'Retain' }),
      Other: binding('g3', []),
    }));
    fake.failWhen = (e) => (e.LogicalResourceId === 'Dependent' ? 'AccessDenied' : undefined);
    const result = await driver.destroy('TestStack');

    expect(result.status).toBe('DELETE_FAILED');
    expect(summary(result)).toEqual(['destroy Delete Other group:g3 ok', 'destroy Delete Dependent group:g1 FAILED']);
    expect(Object.keys(result.resources).sort()).toEqual(['Base', 'Dependent']);
  });
});

describe('duplicate delivery and hand-made events', () => {
  test('delivers every event twice with the same RequestId', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake, { duplicateDelivery: true });
    const result = await driver.deploy(stack({ A: binding('g1', ['+1']) }));

    expect(result.status).toBe('CREATE_COMPLETE');
    expect(result.events.map((e) => `${e.requestType} ${e.delivery} ${e.ok}`)).toEqual(['Create 1 true', 'Create 2 true']);
    expect(fake.received[1].RequestId).toBe(fake.received[0].RequestId);
    expect(fake.received[1]).toEqual(fake.received[0]);
  });

  test('a handler that is not idempotent fails the deploy under duplicate delivery', async () => {
    const bound = new Set<string>();
    const handler: CustomResourceHandler = async (event) => {
      const group = String(event.ResourceProperties.VoiceConnectorGroupId);
      if (event.RequestType === 'Delete') {
        if (!bound.delete(group)) throw new Error(`NotFound: ${group}`);
        return undefined;
      }
      if (bound.has(group)) throw new Error(`Conflict: ${group} already bound`);
      bound.add(group);
      return { PhysicalResourceId: group };
    };
    const onlyDeletes = new LocalDeployDriver({
      handlers: { [BINDING_RESOURCE_TYPE]: handler },
      duplicateDelivery: (event) => event.RequestType === 'Delete',
    });
    await onlyDeletes.deploy(stack({ A: binding('g1', []) }));
    const destroyed = await onlyDeletes.destroy('TestStack');

    expect(destroyed.status).toBe('DELETE_FAILED');
    expect(destroyed.events.map((e) => `${e.delivery} ${e.error ?? 'ok'}`)).toEqual(['1 ok', '2 NotFound: g1']);
  });

  test('deliveries that answer different physical ids fail the resource', async () => {
    let calls = 0;
    const driver = new LocalDeployDriver({
      handlers: { [BINDING_RESOURCE_TYPE]: async () => ({ PhysicalResourceId: `id-${++calls}` }) },
      duplicateDelivery: true,
    });
    const result = await driver.deploy(stack({ A: binding('g1', []) }));

    expect(result.failure).toMatch(/duplicate delivery answered PhysicalResourceId "id-2" after "id-1"/);
  });

  test('sendEvent delivers one hand-made event and applies the Provider framework\'s checks', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    const properties = { ServiceToken: TOKEN, VoiceConnectorGroupId: 'g2', E164PhoneNumbers: ['+1'] };
    const update = buildEvent({
      requestType: 'Update',
      logicalResourceId: 'A',
      resourceType: BINDING_RESOURCE_TYPE,
      properties,
      oldProperties: { ...properties, VoiceConnectorGroupId: 'g1' },
      physicalResourceId: 'group:g1',
    });

    expect(await driver.sendEvent(update)).toMatchObject({ ok: true, physicalResourceId: 'group:g2', data: { DeclaredCount: 1 } });
    expect(fake.received[0]).toEqual(update);

    const renamingDelete = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: async () => ({ PhysicalResourceId: 'other' }) } });
    const deleteEvent = buildEvent({ requestType: 'Delete', logicalResourceId: 'A', resourceType: BINDING_RESOURCE_TYPE, properties, physicalResourceId: 'p' });
    expect(await renamingDelete.sendEvent(deleteEvent)).toEqual({
      ok: false, error: 'DELETE: cannot change the physical resource ID from "p" to "other" during deletion',
    });

    await driver.sendEvent({ ...deleteEvent, PhysicalResourceId: CREATE_FAILED_PHYSICAL_ID_MARKER } as CloudFormationCustomResourceEvent);
    expect(fake.received).toHaveLength(1);
    await expect(driver.sendEvent({ ...deleteEvent, ResourceType: 'Custom::Unknown' })).rejects.toThrow(/No handler registered for resource type Custom::Unknown/);
  });
});

describe('intrinsics', () => {
  test('resolves parameters, pseudo parameters, Join, Select, Split, Sub, FindInMap and NoValue', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    await driver.deploy(stack({
      Group: binding('g0', ['+1', '+2']),
      A: {
        Type: BINDING_RESOURCE_TYPE,
        Properties: {
          ServiceToken: TOKEN,
          VoiceConnectorGroupId: { Ref: 'GroupId' },
          E164PhoneNumbers: { Ref: 'Numbers' },
          Second: { 'Fn::Select': [1, { 'Fn::Split': [',', '+1,+2,+3'] }] },
          Where: { 'Fn::Join': [':', [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'AWS::StackName' }]] },
          Host: { 'Fn::Sub': ['voice-chime.${AWS::Region}.${AWS::URLSuffix}/${Group.DeclaredCount}/${Suffix}/${!Literal}', { Suffix: 'x' }] },
          Templated: { 'Fn::Sub': ['${Prefix}-${Group}', { Prefix: { Ref: 'AWS::StackName' } }] },
          Runtime: { 'Fn::FindInMap': ['Runtimes', { Ref: 'AWS::Region' }, 'value'] },
          Stack: { Ref: 'AWS::StackId' },
          Dropped: { Ref: 'AWS::NoValue' },
          List: ['a', { Ref: 'AWS::NoValue' }, 'b'],
        },
      },
    }, {
      Parameters: { GroupId: { Type: 'String', Default: 'default-group' }, Numbers: { Type: 'CommaDelimitedList' } },
      Mappings: { Runtimes: { 'us-east-1': { value: 'nodejs20.x' } } },
    }), { parameters: { Numbers: '+12065550100,+12065550101' } });

    const props = fake.received[1].ResourceProperties;
    expect(props).toEqual({
      ServiceToken: TOKEN,
      VoiceConnectorGroupId: 'default-group',
      E164PhoneNumbers: ['+12065550100', '+12065550101'],
      Second: '+2',
      Where: 'aws:us-east-1:123456789012:TestStack',
      Host: 'voice-chime.us-east-1.amazonaws.com/2/x/${Literal}',
      Templated: 'TestStack-group:g0',
      Runtime: 'nodejs20.x',
      Stack: fake.received[0].StackId,
      List: ['a', 'b'],
    });
  });

  test('rejects intrinsics it cannot resolve before sending any event', async () => {
    const fake = new FakeBindings();
    const driver = driverFor(fake);
    const bad = stack({
      A: {
        Type: BINDING_RESOURCE_TYPE,
        Properties: {
          ServiceToken: TOKEN,
          Choice: { 'Fn::If': ['IsProd', 'a', 'b'] },
          Imported: [{ 'Fn::ImportValue': 'SharedGroupId' }],
          Missing: { Ref: 'NoSuchThing' },
          Attr: { 'Fn::GetAtt': ['Ghost', 'Arn'] },
        },
      },
    });

    await expect(driver.deploy(bad)).rejects.toThrow([
      'Cannot deploy TestStack:',
      '  A.Properties.Choice: unsupported intrinsic function Fn::If',
      '  A.Properties.Imported[0]: unsupported intrinsic function Fn::ImportValue',
      '  A.Properties.Missing: Ref to NoSuchThing, which the template does not define',
      '  A.Properties.Attr: Fn::GetAtt on Ghost, which the template does not define',
    ].join('\n'));
    expect(fake.received).toEqual([]);
    expect(driver.getStack('TestStack')).toBeUndefined();
  });

  test('rejects dependency cycles and resource type changes', async () => {
    const driver = driverFor(new FakeBindings());
    await expect(driver.deploy(stack({ A: binding('g', [], { DependsOn: 'B' }), B: binding('g', [], { DependsOn: 'A' }) })))
      .rejects.toThrow('circular dependency between resources: A -> B -> A');
    await driver.deploy(stack({ A: binding('g', []) }));
    await expect(driver.deploy(stack({ A: { Type: GROUP_TYPE, Properties: { ServiceToken: TOKEN } } })))
      .rejects.toThrow(`A: Update of resource type is not permitted (${BINDING_RESOURCE_TYPE} -> ${GROUP_TYPE})`);
  });

  test('a Fn::GetAtt on an attribute the handler did not return fails the dependent resource, as CloudFormation does', async () => {
    const fake = new FakeBindings();
    const result = await driverFor(fake).deploy(stack({
      A: binding('g1', []),
      B: { Type: BINDING_RESOURCE_TYPE, Properties: { ServiceToken: TOKEN, Count: { 'Fn::GetAtt': ['A', 'NoSuchKey'] } } },
    }));

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toMatch(/^B: CustomResource attribute error: Vendor response doesn't contain NoSuchKey attribute/);
    expect(summary(result)).toEqual(['deploy Create A - ok', 'rollback Delete A group:g1 ok']);
  });
});

describe('environment and handler modules', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-deploy-'));
    // A stand-in for the bundled asset: it reads the environment at load time, as an SDK client created at module scope would.
    fs.writeFileSync(path.join(dir, 'index.js'), [
      'const endpointAtLoad = process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE;',
      'exports.handler = async (event, context) => ({',
      '  PhysicalResourceId: "module-" + event.LogicalResourceId,',
      '  Data: {',
      '    endpointAtLoad,',
      '    endpoint: process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE,',
      '    region: process.env.AWS_REGION,',
      '    fromTemplate: process.env.FROM_TEMPLATE,',
      '    stackName: process.env.STACK,',
      '    functionName: context.functionName,',
      '    remaining: context.getRemainingTimeInMillis(),',
      '  },',
      '});',
    ].join('\n'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const providerStack = () => stack({
    UserFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Timeout: 120, Environment: { Variables: { FROM_TEMPLATE: 'yes', STACK: { Ref: 'AWS::StackName' } } } },
    },
    FrameworkFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Timeout: 900, Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': ['UserFn', 'Arn'] } } } },
    },
    A: { Type: BINDING_RESOURCE_TYPE, Properties: { ServiceToken: { 'Fn::GetAtt': ['FrameworkFn', 'Arn'] } } },
  });

  test('loads the handler from a module path inside the caller\'s env and the user function\'s template env, then restores process.env', async () => {
    const savedRegion = process.env.AWS_REGION;
    process.env.AWS_REGION = 'ap-south-1';
    try {
      const driver = new LocalDeployDriver({
        handlers: { [BINDING_RESOURCE_TYPE]: path.join(dir, 'index.js') },
        env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: 'http://127.0.0.1:4567', AWS_REGION: 'eu-west-1' },
      });
      const result = await driver.deploy(providerStack());

      const data = result.resources.A.data;
      expect(data).toMatchObject({
        endpointAtLoad: 'http://127.0.0.1:4567',
        endpoint: 'http://127.0.0.1:4567',
        region: 'eu-west-1',
        fromTemplate: 'yes',
        stackName: 'TestStack',
      });
      expect(data.functionName).toMatch(/^TestStack-UserFn-/);
      expect(data.remaining).toBeGreaterThan(110_000);
      expect(data.remaining).toBeLessThanOrEqual(120_000);
      expect(result.events[0].event.ServiceToken).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:TestStack-FrameworkFn-/);
      expect(process.env.AWS_REGION).toBe('ap-south-1');
      expect(process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE).toBeUndefined();
      expect(process.env.FROM_TEMPLATE).toBeUndefined();
    } finally {
      if (savedRegion === undefined) delete process.env.AWS_REGION; else process.env.AWS_REGION = savedRegion;
    }
  });

  test('defaults AWS_REGION to the driver region and lets a deploy unset a variable', async () => {
    process.env.FROM_TEMPLATE = 'outer';
    try {
      const driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: path.join(dir, 'index.js') }, region: 'eu-central-1' });
      const result = await driver.deploy(providerStack(), { env: { FROM_TEMPLATE: undefined } });

      expect(result.resources.A.data).toMatchObject({ region: 'eu-central-1' });
      expect(result.resources.A.data).not.toHaveProperty('fromTemplate');
      expect(result.events[0].event.StackId).toMatch(/^arn:aws:cloudformation:eu-central-1:/);
      expect(process.env.FROM_TEMPLATE).toBe('outer');
    } finally {
      delete process.env.FROM_TEMPLATE;
    }
  });

  test('the library registry maps each resource type to its bundled asset', () => {
    expect(LIBRARY_HANDLERS).toEqual({
      [BINDING_RESOURCE_TYPE]: PHONE_NUMBERS_HANDLER_ASSET,
      'Custom::VoiceConnectorGroup': path.resolve(__dirname, '..', '..', 'assets', 'voice-connector-group-handler', 'index.js'),
    });
    expect(PHONE_NUMBERS_HANDLER_ASSET).toBe(path.resolve(__dirname, '..', '..', 'assets', 'phone-numbers-handler', 'index.js'));
  });
});

describe('a synthesized CDK app', () => {
  function buildApp(numbers: string[], removalPolicy = RemovalPolicy.DESTROY, outdir?: string): App {
    const app = new App(outdir ? { outdir } : {});
    const cdkStack = new Stack(app, 'PhoneNumbers');
    const onEvent = new lambda.Function(cdkStack, 'Handler', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
      timeout: Duration.minutes(2),
      environment: { CHIME_TABLE: 'bindings' },
    });
    const provider = new Provider(cdkStack, 'Provider', { onEventHandler: onEvent });
    new CustomResource(cdkStack, 'Binding', {
      serviceToken: provider.serviceToken,
      resourceType: BINDING_RESOURCE_TYPE,
      removalPolicy,
      properties: { SchemaVersion: '1', VoiceConnectorGroupId: 'vcg-1', E164PhoneNumbers: numbers, ForceAssociate: false },
    });
    return app;
  }

  test('is driven end to end: only the custom resource gets events, with the Provider\'s ServiceToken and the user function\'s env and timeout', async () => {
    const fake = new FakeBindings();
    let tableSeen: string | undefined;
    const handler: CustomResourceHandler = async (event, context) => {
      tableSeen = process.env.CHIME_TABLE;
      return fake.handler(event, context);
    };
    const driver = new LocalDeployDriver({ handlers: { [BINDING_RESOURCE_TYPE]: handler } });
    const [synthesized] = synthApp(buildApp(['+12065550100']));
    const logicalId = Object.keys(synthesized.template.Resources!).find((id) => synthesized.template.Resources![id].Type === BINDING_RESOURCE_TYPE)!;

    const created = await driver.deploy(synthesized);
    expect(created.status).toBe('CREATE_COMPLETE');
    expect(summary(created)).toEqual([`deploy Create ${logicalId} - ok`]);
    expect(fake.received[0].ResourceProperties).toEqual({
      ServiceToken: expect.stringMatching(/^arn:aws:lambda:us-east-1:123456789012:function:PhoneNumbers-ProviderframeworkonEvent/),
      SchemaVersion: '1',
      VoiceConnectorGroupId: 'vcg-1',
      E164PhoneNumbers: ['+12065550100'],
      ForceAssociate: 'false',
    });
    expect(tableSeen).toBe('bindings');
    expect(process.env.CHIME_TABLE).toBeUndefined();
    expect(fake.contexts[0].functionName).toMatch(/^PhoneNumbers-Handler/);
    expect(fake.contexts[0].getRemainingTimeInMillis()).toBeLessThanOrEqual(120_000);
    expect(fake.contexts[0].getRemainingTimeInMillis()).toBeGreaterThan(110_000);

    const updated = await driver.deploy(synthApp(buildApp(['+12065550100', '+12065550101']))[0]);
    expect(summary(updated)).toEqual([`deploy Update ${logicalId} group:vcg-1 ok`]);
    const destroyed = await driver.destroy('PhoneNumbers');
    expect(summary(destroyed)).toEqual([`destroy Delete ${logicalId} group:vcg-1 ok`]);
  });

  test('reads the same templates from a cdk.out directory, and RemovalPolicy.RETAIN means no Delete on destroy', async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
    try {
      const app = buildApp(['+12065550100'], RemovalPolicy.RETAIN, outdir);
      const fromMemory = synthApp(app);
      const fromDisk = readCloudAssembly(outdir);
      expect(fromDisk).toEqual(fromMemory);

      const fake = new FakeBindings();
      const driver = driverFor(fake);
      await driver.deploy(fromDisk[0]);
      const destroyed = await driver.destroy('PhoneNumbers');
      expect(destroyed.status).toBe('DELETE_COMPLETE');
      expect(destroyed.events).toEqual([]);
      expect(fake.received.map((e) => e.RequestType)).toEqual(['Create']);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
