import type { NumberFailure } from './execute';
import { OUT_OF_TIME } from './execute';
import type { Owner } from './plan';
import type { BindingRequest } from './request';

/** Failures listed one by one in the CloudFormation event; the rest are counted (the response is capped at 4 KB). */
const LISTED_FAILURES = 15;

/** What to do about each per-number error code, for the person running the deployment. */
export function remedy(failure: NumberFailure): string {
  switch (failure.code) {
    case 'PhoneNumberAssociationsExist':
      return `${failure.owner ? `bound to ${describeOwner(failure.owner)}` : 'bound elsewhere'}; set forceAssociate: true to move it, or remove it from phoneNumbers`;
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
      return `rejected by the service (${failure.message || 'no detail'}); check it is a Voice Connector product-type number`;
    case 'AccessDeniedException':
    case 'ForbiddenException':
    case 'UnauthorizedClientException':
      return "the handler's role may not make this call; check permissions boundaries and SCPs allow the chime actions listed in the README";
    case 'NotFoundException':
      return `voice connector group ${failure.groupId} was not found; check voiceConnectorGroupId and the stack's region`;
    default:
      return failure.message || 'see the handler log';
  }
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
  const lines = [
    `${request.type} of ${request.logicalId} failed for ${failures.length} phone number(s) on voice connector group ${groupId}:`,
    ...list(failures),
  ];
  if (undoFailures.length === 0) {
    lines.push(undone > 0 ? `The ${undone} change(s) this attempt made were undone.` : 'Nothing was changed.');
  } else {
    lines.push(`Undoing this attempt's ${undone} change(s) failed for ${undoFailures.length} number(s); fix them by hand:`, ...list(undoFailures));
  }
  return lines.join('\n');
}

function list(failures: readonly NumberFailure[]): string[] {
  const lines = failures.slice(0, LISTED_FAILURES).map((f) => `- ${f.number}: ${f.code}: ${remedy(f)}`);
  if (failures.length > LISTED_FAILURES) {
    lines.push(`- and ${failures.length - LISTED_FAILURES} more (every number is in the handler's log)`);
  }
  return lines;
}

/** The message when reading the current bindings failed, before anything was changed. */
export function readFailureMessage(request: BindingRequest, groupIds: readonly string[], error: Error): string {
  const code = (error as { code?: string }).code;
  const groups = [...new Set(groupIds)].join(' and ');
  const what = `${request.type} of ${request.logicalId} could not read the phone numbers of voice connector group ${groups}`;
  const region = process.env.AWS_REGION ?? 'this region';
  let fix: string;
  if (code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'EAI_AGAIN') {
    fix = `Amazon Chime SDK Voice could not be reached in ${region}. Voice Connector is offered only in some regions: deploy the stack to one of them` +
      ' (or check AWS_ENDPOINT_URL_CHIME_SDK_VOICE if you set it)';
  } else if (['AccessDeniedException', 'ForbiddenException', 'UnauthorizedClientException'].includes(error.name)) {
    fix = "The handler's role needs chime:ListPhoneNumbers and chime:GetPhoneNumber on Resource \"*\"; check permissions boundaries and SCPs";
  } else {
    fix = 'Deploy again; if it keeps failing, the handler log has the details';
  }
  return `${what}: ${error.name}: ${error.message}. ${fix}. Nothing was changed.`;
}
