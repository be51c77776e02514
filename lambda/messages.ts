import type { NumberFailure } from './execute';
import { CONTESTED, OUT_OF_TIME, TRANSIENT_CODES } from './execute';
import type { Owner } from './plan';
import type { BindingRequest } from './request';

/** Failures listed one by one in the CloudFormation event; the rest are counted (the response is capped at 4 KB). */
const LISTED_FAILURES = 15;

const DENIED = new Set(['AccessDeniedException', 'ForbiddenException', 'UnauthorizedClientException']);

/** The chime action behind each kind of call, for a denied call whose message does not name it. */
const ACTIONS: Record<NumberFailure['action'], string> = {
  associate: 'chime:AssociatePhoneNumbersWithVoiceConnectorGroup',
  disassociate: 'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup',
  restore: 'chime:AssociatePhoneNumbersWithVoiceConnectorGroup or chime:AssociatePhoneNumbersWithVoiceConnector',
};

export interface RemedyOptions {
  /** The failure happened while undoing this attempt's changes: say where the number is left and how to fix it by hand. */
  readonly undo?: boolean;
  /** Voice connector groups the resource declares (new and old): a number is restored to one of these, or to the owner it was taken from. */
  readonly ownGroups?: ReadonlySet<string>;
}

/** What to do about each per-number error code, for the person running the deployment. */
export function remedy(failure: NumberFailure, options: RemedyOptions = {}): string {
  if (options.undo || failure.action === 'restore') {
    return undoRemedy(failure, options.ownGroups ?? new Set());
  }
  switch (failure.code) {
    case CONTESTED:
      return `${failure.owner ? `bound to ${describeOwner(failure.owner)}` : `bound to another voice connector or group (${whereIs(failure.number)})`}; ` +
        'set forceAssociate: true to move it, or remove it from phoneNumbers';
    case 'NotFound':
      return "not in this account's phone number inventory; order or port it into Amazon Chime SDK first, or correct the number";
    case 'Throttled':
    case 'Throttling':
    case 'ServiceFailure':
    case 'ServiceUnavailable':
      return 'the service kept failing it after every retry; deploy again later';
    case OUT_OF_TIME:
      return `not done: ${failure.message}; deploy again (numbers already in place are skipped)`;
    case 'BadRequest':
    case 'Validation':
    case 'Unprocessable':
      return `rejected by the service (${failure.message || 'no detail'}); a group takes only numbers of product type VoiceConnector: ` +
        `check it with aws chime-sdk-voice get-phone-number --phone-number-id ${failure.number}, then change its product type ` +
        '(update-phone-number --product-type VoiceConnector) or remove it from phoneNumbers';
    case 'AccessDeniedException':
    case 'ForbiddenException':
    case 'UnauthorizedClientException':
      return denied(failure);
    case 'NotFoundException':
      return `voice connector group ${failure.groupId} was not found in ${stackRegion()}; voiceConnectorGroupId must name a group in the stack's account and region: ` +
        'check it and the stack\'s region (aws chime-sdk-voice list-voice-connector-groups lists the groups)';
    default:
      return `${failure.message || 'the service gave no detail'}; the handler log has the full error`;
  }
}

/**
 * A number whose undo failed is left as this attempt made it: bound to the group although it was not before
 * (`disassociate`), or off the place it was before (`restore`: back to the group it was unbound from, or to
 * the owner forceAssociate took it from). Says which, why, and the command that finishes the undo by hand.
 */
function undoRemedy(failure: NumberFailure, ownGroups: ReadonlySet<string>): string {
  const { number, groupId } = failure;
  const reason = undoReason(failure);
  if (failure.action === 'disassociate') {
    return `still bound to voice connector group ${groupId}, which this attempt bound it to (${reason}); if it does not belong there, unbind it with ` +
      `aws chime-sdk-voice disassociate-phone-numbers-from-voice-connector-group --voice-connector-group-id ${groupId} --e164-phone-numbers ${number}`;
  }
  const toGroup = `aws chime-sdk-voice associate-phone-numbers-with-voice-connector-group --voice-connector-group-id ${groupId} --e164-phone-numbers ${number}`;
  if (failure.code === CONTESTED) {
    // Only a plain re-bind to the resource's own group can meet an existing association (a hand-back is forced).
    const now = failure.owner ? `it is now bound to ${describeOwner(failure.owner)}` : `it is now bound to another voice connector or group (${whereIs(number)})`;
    return `not bound back to voice connector group ${groupId}, where it was before this attempt: ${now}. ` +
      `If it belongs on ${groupId}, take it back with ${toGroup} --force-associate; otherwise leave it where it is`;
  }
  if (ownGroups.has(groupId)) {
    return `not bound back to voice connector group ${groupId}, where it was before this attempt (${reason}); bind it back with ${toGroup}`;
  }
  return `not handed back to ${groupId}, where it was before this attempt took it with forceAssociate (${reason}); hand it back with ${toGroup} --force-associate ` +
    `(or, if ${groupId} is a voice connector, aws chime-sdk-voice associate-phone-numbers-with-voice-connector --voice-connector-id ${groupId} ` +
    `--e164-phone-numbers ${number} --force-associate)`;
}

function undoReason(failure: NumberFailure): string {
  if (TRANSIENT_CODES.has(failure.code)) return 'the service kept failing the call after every retry';
  if (failure.code === OUT_OF_TIME) return failure.message || 'the handler ran out of time';
  if (DENIED.has(failure.code)) return denied(failure);
  if (failure.code === 'NotFoundException') return `${failure.groupId} was not found in ${stackRegion()}`;
  return failure.message || 'the service gave no detail';
}

function denied(failure: NumberFailure): string {
  // The service's message usually names the denied action ("... not authorized to perform: chime:X ..."); it may
  // not be the call the failure belongs to (an owner lookup before forcing is chime:GetPhoneNumber).
  const action = /chime:[A-Za-z]+/.exec(failure.message)?.[0] ?? ACTIONS[failure.action];
  return `the handler's role may not make this call, ${action} (${failure.message || 'no detail'}); ` +
    'allow it on Resource "*" in the role\'s permissions boundary and your SCPs (the README\'s Security section lists every action the handler needs)';
}

function whereIs(number: string): string {
  return `the handler could not look up which: aws chime-sdk-voice get-phone-number --phone-number-id ${number} shows it`;
}

function stackRegion(): string {
  return process.env.AWS_REGION ?? "the stack's region";
}

export function describeOwner(owner: Owner): string {
  return owner.kind === 'group' ? `voice connector group ${owner.id}` : `voice connector ${owner.id}`;
}

/** The message CloudFormation shows when a binding resource fails. */
export function failureMessage(
  request: BindingRequest,
  failures: readonly NumberFailure[],
  undoFailures: readonly NumberFailure[],
  undone: number,
): string {
  const groupId = request.type === 'Delete' ? request.previous?.groupId : request.desired.groupId;
  return [
    `${request.type} of ${request.logicalId} failed for ${failures.length} phone number(s) on voice connector group ${groupId}:`,
    ...list(failures, { ownGroups: ownGroupsOf(request) }),
    undoOutcome(request, undoFailures, undone),
  ].join('\n');
}

/**
 * What became of the changes a failing attempt had made: none, all undone, or which numbers are left as
 * the attempt made them and how to finish the undo by hand.
 */
export function undoOutcome(request: BindingRequest, undoFailures: readonly NumberFailure[], undone: number): string {
  if (undoFailures.length === 0) {
    return undone > 0 ? `The ${undone} change(s) this attempt made were undone.` : 'Nothing was changed.';
  }
  return [
    `Undoing this attempt's ${undone} change(s) failed for ${undoFailures.length} number(s); fix them by hand:`,
    ...list(undoFailures, { undo: true, ownGroups: ownGroupsOf(request) }),
  ].join('\n');
}

/** Groups the resource declares, new and old: an undo binds a number back to one of these, or hands it back to its owner. */
function ownGroupsOf(request: BindingRequest): Set<string> {
  return new Set([request.type === 'Delete' ? undefined : request.desired.groupId, request.type === 'Create' ? undefined : request.previous?.groupId]
    .filter((g): g is string => g !== undefined));
}

function list(failures: readonly NumberFailure[], options?: RemedyOptions): string[] {
  const lines = failures.slice(0, LISTED_FAILURES).map((f) => `- ${f.number}: ${f.code}: ${remedy(f, options)}`);
  if (failures.length > LISTED_FAILURES) {
    lines.push(`- and ${failures.length - LISTED_FAILURES} more (every number is in the handler's log)`);
  }
  return lines;
}

/**
 * The message when reading the current bindings failed. It does not say whether anything was changed: the
 * caller adds that (a Delete may have started unbinding before a later page of the listing failed).
 */
export function readFailureMessage(request: BindingRequest, groupIds: readonly string[], error: Error): string {
  const code = (error as { code?: string }).code;
  const groups = [...new Set(groupIds)].join(' and ');
  const what = `${request.type} of ${request.logicalId} could not read the phone numbers of voice connector group ${groups}`;
  const region = process.env.AWS_REGION ?? 'this region';
  let fix: string;
  if (code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'EAI_AGAIN') {
    fix = `Amazon Chime SDK Voice could not be reached in ${region}. Voice Connector is offered only in some regions: deploy the stack to one of them` +
      ' (or check AWS_ENDPOINT_URL_CHIME_SDK_VOICE if you set it)';
  } else if (DENIED.has(error.name)) {
    fix = "The handler's role needs chime:ListPhoneNumbers and chime:GetPhoneNumber on Resource \"*\"; check permissions boundaries and SCPs";
  } else {
    fix = 'Deploy again; if it keeps failing, the handler log has the details';
  }
  return `${what}: ${error.name}: ${error.message}. ${fix}.`;
}
