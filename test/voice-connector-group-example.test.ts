/**
 * The example app in examples/ is compiled with the tests (this import pulls it into the type check)
 * and synthesized here, so an API change that breaks it fails the build.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { bindingOf } from './fixtures/construct-fixtures';
import { buildApp } from '../examples/app';

const { contactCenter, sales } = buildApp();
const shared = Template.fromStack(contactCenter);
const team = Template.fromStack(sales);

test('the contact-center stack holds the retained group and the support lines, bound through the group\'s attribute', () => {
  const groups = shared.findResources('Custom::VoiceConnectorGroup');
  const [[groupId, group]] = Object.entries(groups);
  expect(group).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  expect(group.Properties).toMatchObject({
    Name: 'contact-center',
    VoiceConnectorItems: [{ VoiceConnectorId: 'abcdef1ghij2klmno3pqr4', Priority: 1 }, { VoiceConnectorId: 'bcdefg2hijk3lmnop4qrs5', Priority: 2 }],
    CallDistributionType: 'PriorityWeightedDistribution',
  });
  for (const number of ['+12065550100', '+12065550101']) {
    const { entry, resource } = bindingOf(shared, number);
    expect(entry).toEqual({ VoiceConnectorGroupId: { 'Fn::GetAtt': [groupId, 'VoiceConnectorGroupId'] }, E164PhoneNumbers: expect.arrayContaining([number]) });
    expect(resource.DeletionPolicy).toBe('Delete');
  }
});

test('the sales stack binds the production lines to the shared group through a cross-stack import, retained', () => {
  expect(sales.dependencies).toEqual([contactCenter]);
  team.resourceCountIs('Custom::VoiceConnectorGroup', 0);
  for (const number of ['+12065550110', '+12065550111', '+12065550112']) {
    const { entry } = bindingOf(team, number);
    expect(entry).toMatchObject({
      VoiceConnectorGroupId: { 'Fn::ImportValue': expect.stringMatching(/^ContactCenter:ExportsOutputFnGetAttContactCenter/) },
      Retain: 'true',
    });
  }
});

test('no warnings or errors in either stack', () => {
  for (const stack of [contactCenter, sales]) {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  }
});
