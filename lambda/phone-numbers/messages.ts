import { CONTESTED, ERROR_CODES, isDenied, isTransient, OUT_OF_TIME } from './error-codes';
import type { NumberFailure } from './execute';
import type { Refusal, Unrestored } from './plan';
import type { Owner } from './record';

/**
 * CloudFormation caps a custom resource's response at 4,096 bytes, and the Provider framework's FAILED
 * response carries the message, a "Logs:" line, the physical id, the stack and request ids and its JSON
 * framing. A message is kept to what is left after the physical id and 700 bytes for the rest, most useful
 * lines first; whatever does not fit is counted, and every number is in the handler's log.
 */
export const FRAMING_BYTES = 700;
export const RESPONSE_MAX_BYTES = 4096;

/** The chime action behind each kind of call, for a denied call whose message does not name it. */
const ACTIONS: Record<NumberFailure['action'], string> = {
  associate: 'chime:AssociatePhoneNumbersWithVoiceConnectorGroup (or ...WithVoiceConnector, to hand a number back)',
  disassociate: 'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup',
};

export function describeOwner(owner: Owner | null | undefined): string {
  if (owner === null) return 'no group (unbound)';
  if (owner === undefined) return 'somewhere the handler could not see';
  return owner.kind === 'group' ? `voice connector group ${owner.id}` : `voice connector ${owner.id}`;
}

/** What to do about one failed number, for the person running the deployment. */
export function remedy(failure: NumberFailure): string {
  const { code, number } = failure;
  if (code === CONTESTED) {
    return `bound to ${failure.owner ? describeOwner(failure.owner) : 'another voice connector or group'}; set forceAssociate: true to move it, or remove it from phoneNumbers`;
  }
  if (code === 'NotFound') return "not in this account's phone number inventory; order or port it into Amazon Chime SDK first, or correct the number";
  if (isTransient(code)) return `${ERROR_CODES[code as keyof typeof ERROR_CODES].why}, and kept failing after every retry; deploy again later`;
  if (code === OUT_OF_TIME) return `not done: ${failure.message}; deploy again (numbers already in place are skipped)`;
  if (code === 'Unverified') return `${failure.message}; deploy again, and check it with aws chime-sdk-voice get-phone-number --phone-number-id ${number}`;
  if (code === 'BadRequest' || code === 'Validation' || code === 'Unprocessable') {
    return `rejected by the service (${failure.message || 'no detail'}); a group takes only numbers of product type VoiceConnector: ` +
      `check it with aws chime-sdk-voice get-phone-number --phone-number-id ${number}, then change its product type or remove it from phoneNumbers`;
  }
  if (isDenied(code)) {
    const action = /chime:[A-Za-z]+/.exec(failure.message)?.[0] ?? ACTIONS[failure.action];
    return `the handler's role may not make this call, ${action} (${failure.message || 'no detail'}); allow it on Resource "*" in the role's ` +
      "permissions boundary and your SCPs (the README's Security section lists every action)";
  }
  if (code === 'NotFoundException') {
    return `voice connector group ${failure.groupId} was not found in ${process.env.AWS_REGION ?? "the stack's region"}; voiceConnectorGroupId must name a group ` +
      "in the stack's account and region (aws chime-sdk-voice list-voice-connector-groups lists them)";
  }
  const known = (ERROR_CODES as Record<string, { why: string }>)[code];
  return `${known ? known.why : failure.message || 'the service gave no detail'}; the handler log has the full error`;
}

/** A message of lines, cut to `budget` bytes: the header, then as many lines as fit, then how many were left out. */
export function fitted(header: string, lines: readonly string[], footer: string, budget: number): string {
  const out = [header];
  let size = Buffer.byteLength(header) + Buffer.byteLength(footer) + 2;
  let shown = 0;
  for (const line of lines) {
    // JSON escaping of the FAILED response can grow a line; leave room for the "and N more" line.
    const cost = Buffer.byteLength(JSON.stringify(line)) + 1;
    if (size + cost + 80 > budget) break;
    out.push(line);
    size += cost;
    shown++;
  }
  if (shown < lines.length) out.push(`- and ${lines.length - shown} more (every number is in the handler's log, with its error)`);
  if (footer) out.push(footer);
  return out.join('\n');
}

/** The byte budget of a failure message, given the physical id the FAILED response carries. */
export function messageBudget(physicalId: string | undefined): number {
  return RESPONSE_MAX_BYTES - FRAMING_BYTES - Buffer.byteLength(JSON.stringify(physicalId ?? ''));
}

/** Failures first by how actionable they are: refusals and missing numbers before retries and timeouts. */
function byUsefulness(a: NumberFailure, b: NumberFailure): number {
  const rank = (f: NumberFailure) => (f.code === CONTESTED ? 0 : f.code === 'NotFound' ? 1 : isDenied(f.code) ? 2 : f.code === OUT_OF_TIME ? 4 : 3);
  return rank(a) - rank(b) || (a.number < b.number ? -1 : 1);
}

/** The message of a Create, Update or Delete that failed for some numbers, with what became of its changes. */
export function failureMessage(
  what: string, failures: readonly NumberFailure[], undo: { readonly changed: number; readonly left: readonly Unrestored[] } | string, budget: number,
): string {
  const header = `${what} failed for ${failures.length} phone number(s):`;
  const lines = [...failures].sort(byUsefulness).map((f) => `- ${f.number}: ${f.code}: ${remedy(f)}`);
  return fitted(header, lines, typeof undo === 'string' ? undo : undoOutcome(undo), budget);
}

/** Declared numbers bound elsewhere, refused before any change. */
export function refusalMessage(what: string, refused: readonly Refusal[], budget: number): string {
  const lines = refused.map((r) => `- ${r.number}: ${CONTESTED}: bound to ${describeOwner(r.owner)}; set forceAssociate: true to move it to ` +
    `voice connector group ${r.groupId}, or remove it from phoneNumbers`);
  return fitted(`${what} failed: ${refused.length} phone number(s) are bound elsewhere:`, lines, 'Nothing was changed.', budget);
}

/** What became of a failing attempt's changes: none, all undone, or which numbers are left and where. */
export function undoOutcome(undo: { readonly changed: number; readonly left: readonly Unrestored[] }): string {
  if (undo.left.length === 0) return undo.changed > 0 ? `The ${undo.changed} change(s) this attempt made were undone.` : 'Nothing was changed.';
  const first = undo.left.slice(0, 3).map((u) => `${u.number} (now on ${describeOwner(u.now)}, was on ${u.wanted.kind === 'unbound' ? 'no group' : describeOwner(u.wanted.owner)})`);
  return `Undoing this attempt's changes left ${undo.left.length} number(s) where it had put them, e.g. ${first.join(', ')}; the handler log lists every one ` +
    'with the aws chime-sdk-voice command that puts it back.';
}

/** The command that puts one number back where a rollback wanted it, for the log. */
export function restoreCommand(u: Unrestored, groupId: string): string {
  if (u.wanted.kind === 'unbound') {
    return `aws chime-sdk-voice disassociate-phone-numbers-from-voice-connector-group --voice-connector-group-id ${groupId} --e164-phone-numbers ${u.number}`;
  }
  const owner = u.wanted.owner;
  return owner.kind === 'group'
    ? `aws chime-sdk-voice associate-phone-numbers-with-voice-connector-group --voice-connector-group-id ${owner.id} --e164-phone-numbers ${u.number} --force-associate`
    : `aws chime-sdk-voice associate-phone-numbers-with-voice-connector --voice-connector-id ${owner.id} --e164-phone-numbers ${u.number} --force-associate`;
}

/** The message when reading the current bindings failed, before any change. */
export function readFailureMessage(what: string, error: Error): string {
  const code = (error as { code?: string }).code;
  const region = process.env.AWS_REGION ?? 'this region';
  let fix: string;
  if (code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'EAI_AGAIN') {
    fix = `Amazon Chime SDK Voice could not be reached in ${region}. Voice Connector is offered only in some regions: deploy the stack to one of them` +
      ' (or check AWS_ENDPOINT_URL_CHIME_SDK_VOICE if you set it)';
  } else if (isDenied(error.name)) {
    fix = "The handler's role needs chime:ListPhoneNumbers and chime:GetPhoneNumber on Resource \"*\"; check permissions boundaries and SCPs";
  } else {
    fix = 'Deploy again; if it keeps failing, the handler log has the details';
  }
  return `${what} could not read the phone numbers it needs: ${error.name}: ${error.message}. ${fix}. Nothing was changed.`;
}
