import type { ErrorCode } from '@aws-sdk/client-chime-sdk-voice';

/** How the handler treats a per-number error code. */
export type ErrorClass = 'transient' | 'permanent' | 'denied';

/**
 * Every per-number `ErrorCode` of the Chime SDK Voice model (17), with how the handler treats it and why.
 * Transient codes are retried with backoff; permanent ones fail the number (and, outside a rollback, the
 * event, after undoing it); denied ones fail it with the IAM action to grant. Typed against the SDK's
 * enum, so a code added to the model fails the build until it is classified here.
 */
export const ERROR_CODES: Readonly<Record<ErrorCode, { readonly class: ErrorClass; readonly why: string }>> = {
  Throttled: { class: 'transient', why: 'the request rate was too high; the same call succeeds later' },
  Throttling: { class: 'transient', why: 'the request rate was too high; the same call succeeds later' },
  ServiceFailure: { class: 'transient', why: 'a fault on the service side, not in the request' },
  ServiceUnavailable: { class: 'transient', why: 'the service was briefly unavailable' },
  Conflict: { class: 'transient', why: 'another change to the same number or group was in progress; it settles, and the call can be made again' },
  NotFound: { class: 'permanent', why: "the number is not in the account's inventory (or, unbinding, no longer on the group)" },
  PhoneNumberAssociationsExist: { class: 'permanent', why: 'the number is bound elsewhere; only forceAssociate may take it' },
  VoiceConnectorGroupAssociationsExist: { class: 'permanent', why: 'the number or group is held by a voice connector group association that must be removed first' },
  BadRequest: { class: 'permanent', why: 'the request is malformed for this number (often a number of another product type)' },
  Validation: { class: 'permanent', why: 'the number failed the service\'s validation' },
  Unprocessable: { class: 'permanent', why: 'the service cannot act on this number in its current state (such as its product type)' },
  PreconditionFailed: { class: 'permanent', why: 'a condition the operation needs does not hold for this number (its status or order)' },
  Gone: { class: 'permanent', why: 'the number has been released from the account' },
  ResourceLimitExceeded: { class: 'permanent', why: 'an account or group quota would be exceeded; a retry cannot change that' },
  AccessDenied: { class: 'denied', why: 'the handler\'s role may not make the call for this number' },
  Forbidden: { class: 'denied', why: 'the account or the number forbids the call' },
  Unauthorized: { class: 'denied', why: 'the caller is not authorized for the call' },
};

/** The per-number code of a number bound elsewhere. */
export const CONTESTED = 'PhoneNumberAssociationsExist';

/** Code recorded for numbers the handler never got to because the invocation was running out of time. */
export const OUT_OF_TIME = 'OutOfTime';

export function isTransient(code: string | undefined): boolean {
  return code !== undefined && (ERROR_CODES as Record<string, { class: ErrorClass }>)[code]?.class === 'transient';
}

export function isDenied(code: string | undefined): boolean {
  return code !== undefined && ((ERROR_CODES as Record<string, { class: ErrorClass }>)[code]?.class === 'denied'
    || ['AccessDeniedException', 'ForbiddenException', 'UnauthorizedClientException'].includes(code));
}
