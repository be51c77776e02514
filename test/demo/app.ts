import { App, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';

export interface TelephonyStackProps extends StackProps {
  readonly voiceConnectorGroupId: string;
  readonly supportNumbers: string[];
  readonly salesNumbers: string[];
}

/** The demo's example app: a support line and a sales line bound to one voice connector group. */
export class TelephonyStack extends Stack {
  constructor(scope: Construct, id: string, props: TelephonyStackProps) {
    super(scope, id, props);
    new VoiceConnectorGroupPhoneNumbers(this, 'SupportLine', {
      voiceConnectorGroupId: props.voiceConnectorGroupId,
      phoneNumbers: props.supportNumbers,
    });
    new VoiceConnectorGroupPhoneNumbers(this, 'SalesLine', {
      voiceConnectorGroupId: props.voiceConnectorGroupId,
      phoneNumbers: props.salesNumbers,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

export function demoApp(props: TelephonyStackProps): { app: App; stack: TelephonyStack } {
  const app = new App();
  return { app, stack: new TelephonyStack(app, 'Telephony', props) };
}
