import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';

/** How much the handlers write to their logs. */
export enum HandlerLogLevel {
  /** Every call decision, including per-number retries. */
  DEBUG = 'DEBUG',
  /** One line per event, plan and result (the default). */
  INFO = 'INFO',
  /** Only retries that change course and failures. */
  WARN = 'WARN',
  /** Only failures. */
  ERROR = 'ERROR',
}

/**
 * Options for the handlers this library deploys in a stack: the one every `VoiceConnectorGroupPhoneNumbers`
 * shares, and the one behind `VoiceConnectorGroup`. Set them with
 * `VoiceConnectorGroupPhoneNumbers.configureHandler()`.
 */
export interface PhoneNumbersHandlerOptions {
  /**
   * Log group for the handlers, the Provider framework functions and the completion waiter.
   *
   * When set, `logRetention` and `encryptionKey` are not used: the group's own settings apply.
   *
   * @default - Log groups are created, with `logRetention` and `encryptionKey`
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * Retention of the log groups the library creates.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key that encrypts the log groups the library creates. The key's policy is extended to let
   * CloudWatch Logs in the stack's region use it (for keys defined in the same app).
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How much the handler logs. Logs carry event types, group ids, counts and per-number failures, never
   * credentials, the event's response URL or whole SDK responses.
   *
   * @default HandlerLogLevel.INFO
   */
  readonly logLevel?: HandlerLogLevel;
}
