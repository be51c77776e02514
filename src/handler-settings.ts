import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { PhoneNumbersHandlerOptions } from './phone-numbers-handler-options';

/** Handler options per stack, set once by `configureHandler` and read by both providers. */
const optionsByStack = new WeakMap<Stack, PhoneNumbersHandlerOptions>();

/** Provider construct ids whose resources depend on the options: they must not exist when options are set. */
const PROVIDER_IDS = ['VoiceConnectorGroupPhoneNumbersProvider', 'VoiceConnectorGroupProvider'];

export function setHandlerOptions(stack: Stack, options: PhoneNumbersHandlerOptions): void {
  if (optionsByStack.has(stack) || PROVIDER_IDS.some((id) => stack.node.tryFindChild(id))) {
    throw new Error(
      `${stack.node.path}: the handlers of this stack already exist or are already configured. Call ` +
      'VoiceConnectorGroupPhoneNumbers.configureHandler() before the first construct of this library in the stack, and only once.',
    );
  }
  optionsByStack.set(stack, options);
}

export function handlerOptions(stack: Stack): PhoneNumbersHandlerOptions {
  return optionsByStack.get(stack) ?? {};
}

/** Environment for a handler function from the stack's options. */
export function logLevelEnvironment(stack: Stack): Record<string, string> {
  const level = handlerOptions(stack).logLevel;
  return level ? { LOG_LEVEL: level } : {};
}

/**
 * Log groups for one provider: the user's own when given, otherwise new ones with the configured
 * retention and key. The key is shared, so CloudWatch Logs is granted its use once per provider.
 */
export class ProviderLogGroups {
  private keyGranted = false;

  constructor(private readonly scope: Construct) {}

  public logGroup(id: string): logs.ILogGroup {
    const stack = Stack.of(this.scope);
    const options = handlerOptions(stack);
    if (options.logGroup) return options.logGroup;
    const key = options.encryptionKey;
    if (key && !this.keyGranted) {
      key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`));
      this.keyGranted = true;
    }
    return new logs.LogGroup(this.scope, id, { retention: options.logRetention ?? logs.RetentionDays.ONE_YEAR, encryptionKey: key });
  }
}
