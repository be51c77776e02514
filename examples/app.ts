/**
 * An app a platform team can copy: one shared voice connector group for the contact center, the
 * support lines bound in the same stack, and the production sales lines bound from a second stack that
 * a different team owns. In your own app, import from 'cdk-chime-voice-connector-groups' instead of '../src'.
 *
 * Synthesize with `npx cdk synth --app 'npx ts-node examples/app.ts'`. The voice connector ids and
 * numbers below are placeholders; pass your own as context (`-c primaryVoiceConnectorId=...`).
 */
import { App, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CallDistributionType, IVoiceConnectorGroup, VoiceConnectorGroup } from '../src';

/** The shared group and the numbers its owning team answers. */
export class ContactCenterStack extends Stack {
  public readonly group: VoiceConnectorGroup;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.group = new VoiceConnectorGroup(this, 'ContactCenter', {
      name: 'contact-center',
      voiceConnectors: [
        { voiceConnectorId: this.node.tryGetContext('primaryVoiceConnectorId') ?? 'abcdef1ghij2klmno3pqr4', priority: 1 },
        { voiceConnectorId: this.node.tryGetContext('standbyVoiceConnectorId') ?? 'bcdefg2hijk3lmnop4qrs5', priority: 2 },
      ],
      callDistributionType: CallDistributionType.PRIORITY_WEIGHTED,
      // Production numbers in other stacks stay bound to this group when this stack goes away, and a group
      // with numbers can not be deleted: keep it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Lines that can come and go with this stack: unbound when removed from here.
    this.group.addPhoneNumbers('SupportLines', ['+12065550100', '+12065550101']);
  }
}

export interface SalesNumbersStackProps extends StackProps {
  /** Id of the group to bind to; a reference to another stack's group becomes a cross-stack export. */
  readonly voiceConnectorGroupId: string;
}

/** Production numbers owned by another team, bound to the shared group from their own stack. */
export class SalesNumbersStack extends Stack {
  public readonly group: IVoiceConnectorGroup;

  constructor(scope: Construct, id: string, props: SalesNumbersStackProps) {
    super(scope, id, props);
    this.group = VoiceConnectorGroup.fromVoiceConnectorGroupId(this, 'ContactCenter', props.voiceConnectorGroupId);
    // Customers dial these: a stack deletion or a construct refactor must never unbind them.
    this.group.addPhoneNumbers('ProductionLines', ['+12065550110', '+12065550111', '+12065550112'], {
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

// Recent aws-cdk-lib releases ask every app with cross-stack references to choose their strength. 'strong'
// is what every release has done: CloudFormation refuses to remove an export that another stack imports.
const CROSS_STACK_REFERENCES = { '@aws-cdk/core:defaultCrossStackReferences': 'strong' };

export function buildApp(app: App = new App({ context: CROSS_STACK_REFERENCES })): { app: App; contactCenter: ContactCenterStack; sales: SalesNumbersStack } {
  const contactCenter = new ContactCenterStack(app, 'ContactCenter');
  const sales = new SalesNumbersStack(app, 'SalesNumbers', { voiceConnectorGroupId: contactCenter.group.voiceConnectorGroupId });
  return { app, contactCenter, sales };
}

if (require.main === module) {
  buildApp().app.synth();
}
