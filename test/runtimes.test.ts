import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VoiceConnectorGroup, VoiceConnectorGroupPhoneNumbers } from '../src';

/** A stack with every function the library synthesizes: both providers (all framework functions) and the drift check. */
function everyFunction(props: StackProps): Record<string, any> {
  const app = new App();
  const stack = new Stack(app, 'Telephony', props);
  const group = new VoiceConnectorGroup(stack, 'Group', { name: 'contact-center' });
  group.addPhoneNumbers('Lines', ['+12065550100']);
  new VoiceConnectorGroupPhoneNumbers(stack, 'Checked', {
    voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'], driftDetection: { repair: true },
  });
  return Template.fromStack(stack).findResources('AWS::Lambda::Function');
}

const PLACEMENTS: Array<[string, StackProps]> = [
  ['a commercial region', { env: { account: '123456789012', region: 'us-east-1' } }],
  ['an isolated region', { env: { account: '123456789012', region: 'us-iso-east-1' } }],
  ['a region aws-cdk-lib does not know', { env: { account: '123456789012', region: 'xx-future-1' } }],
  ['a region-agnostic stack', {}],
];

describe('every function, the Provider framework\'s included, runs on nodejs24.x', () => {
  test.each(PLACEMENTS)('in %s', (_, props) => {
    const functions = everyFunction(props);
    // Numbers: handler, onEvent, isComplete, onTimeout; group: handler, onEvent; the drift check.
    expect(Object.keys(functions)).toHaveLength(7);
    const runtimes = Object.fromEntries(Object.entries(functions).map(([id, fn]) => [id, fn.Properties.Runtime]));
    expect(Object.values(runtimes).every((runtime) => runtime === 'nodejs24.x')).toBe(true);
  });

  test('the framework functions are the ones aws-cdk-lib would otherwise place (their handler is framework.*)', () => {
    const framework = Object.values(everyFunction({})).filter((fn) => String(fn.Properties.Handler).startsWith('framework.'));
    expect(framework.map((fn) => fn.Properties.Handler).sort()).toEqual([
      'framework.isComplete', 'framework.onEvent', 'framework.onEvent', 'framework.onTimeout',
    ]);
  });
});

describe('the completion waiter logs every event, without execution data', () => {
  test.each(PLACEMENTS)('in %s', (_, props) => {
    const app = new App();
    const stack = new Stack(app, 'Telephony', props);
    new VoiceConnectorGroupPhoneNumbers(stack, 'Lines', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    const template = Template.fromStack(stack);
    const machines = Object.values<any>(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const logging = machines[0].Properties.LoggingConfiguration;
    expect(logging).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(logging.Destinations).toEqual([{
      CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.stringMatching(/^VoiceConnectorGroupPhoneNumbersProviderWaiterLogs/), 'Arn'] } },
    }]);
  });
});

describe('the committed integration snapshot deploys on today\'s Lambda', () => {
  test('every function in every snapshot template, the assertion stack\'s included, is on nodejs24.x', () => {
    const dir = path.join(__dirname, 'integ.voice-connector-group.ts.snapshot');
    const runtimes = fs.readdirSync(dir).filter((f) => f.endsWith('.template.json')).flatMap((file) => {
      const template = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      return Object.values<any>(template.Resources ?? {})
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => `${file}: ${JSON.stringify(r.Properties.Runtime)}`);
    });
    expect(runtimes.length).toBeGreaterThan(6);
    expect(runtimes.filter((r) => !r.endsWith(': "nodejs24.x"'))).toEqual([]);
  });
});
