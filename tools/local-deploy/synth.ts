/**
 * Templates straight from CDK objects, for tests. Kept apart from template.ts so that the command line,
 * which reads templates from a cloud assembly, never loads aws-cdk-lib.
 */
import type { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StackTemplate } from './template';

export function synthApp(app: App): StackTemplate[] {
  return app.synth().stacks.map((artifact) => ({ stackName: artifact.stackName, template: artifact.template }));
}

export function fromStack(stack: Stack): StackTemplate {
  return { stackName: stack.stackName, template: Template.fromStack(stack).toJSON() };
}
