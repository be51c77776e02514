import { FakeVoice } from './fake-voice';
import { GROUP_A, GROUP_B, LOGICAL_ID, createEvent, numbers, props, updateEvent } from './fixtures';
import type { NumberFailure } from '../../lambda/execute';
import { OUT_OF_TIME } from '../../lambda/execute';
import { reconcile } from '../../lambda/index';
import { createLogger } from '../../lambda/log';
import { failureMessage, readFailureMessage, remedy } from '../../lambda/messages';
import { physicalIdFor } from '../../lambda/plan';
import { parseRequest, type BindingRequest } from '../../lambda/request';

const [n0, n1, n2] = numbers(3);
const OTHER_GROUP = 'vcg-other';
const OTHER_VC = 'vc-other';

function failed(overrides: Partial<NumberFailure> & Pick<NumberFailure, 'code'>): NumberFailure {
  return { number: n0, groupId: GROUP_A, action: 'associate', message: '', ...overrides };
}

const create: BindingRequest = { type: 'Create', logicalId: LOGICAL_ID, desired: { groupId: GROUP_A, numbers: [n0], forceAssociate: false, peerNumbers: new Set() } };
const update: BindingRequest = {
  type: 'Update',
  logicalId: LOGICAL_ID,
  physicalId: physicalIdFor(GROUP_A, LOGICAL_ID),
  desired: { groupId: GROUP_B, numbers: [n0], forceAssociate: true, peerNumbers: new Set() },
  previous: { groupId: GROUP_A, numbers: [n0, n1], forceAssociate: true, peerNumbers: new Set() },
};

/** The remedy of the one undo failure in a failure message. */
function undoLine(request: BindingRequest, undo: NumberFailure): string {
  const message = failureMessage(request, [failed({ number: n2, code: 'NotFound' })], [undo], 2);
  const lines = message.split('\n');
  const header = lines.findIndex((l) => l.startsWith("Undoing this attempt's"));
  expect(header).toBeGreaterThan(0);
  return lines[header + 1];
}

describe('remedy, forward failures', () => {
  test('a number bound elsewhere names the owner and the fix', () => {
    expect(remedy(failed({ code: 'PhoneNumberAssociationsExist', owner: { kind: 'group', id: OTHER_GROUP } }))).toBe(
      `bound to voice connector group ${OTHER_GROUP}; set forceAssociate: true to move it, or remove it from phoneNumbers`,
    );
  });

  test('a number bound elsewhere whose owner could not be looked up says how to find it (was "bound elsewhere")', () => {
    const text = remedy(failed({ code: 'PhoneNumberAssociationsExist' }));
    expect(text).not.toContain('bound elsewhere');
    expect(text).toContain(`bound to another voice connector or group (the handler could not look up which: aws chime-sdk-voice get-phone-number --phone-number-id ${n0} shows it)`);
    expect(text).toContain('set forceAssociate: true to move it');
  });

  test.each(['BadRequest', 'Validation', 'Unprocessable'])('%s names the product-type rule and how to check and change it', (code) => {
    const text = remedy(failed({ code, message: 'has product type SipMediaApplicationDialIn' }));
    expect(text).toBe(
      'rejected by the service (has product type SipMediaApplicationDialIn); a group takes only numbers of product type VoiceConnector: ' +
      `check it with aws chime-sdk-voice get-phone-number --phone-number-id ${n0}, then change its product type ` +
      '(update-phone-number --product-type VoiceConnector) or remove it from phoneNumbers',
    );
  });

  test('a denied call names the denied action from the service message, keeps the message, and says where to allow it', () => {
    const text = remedy(failed({ code: 'ForbiddenException', message: 'Explicit deny in a service control policy' }));
    expect(text).toBe(
      "the handler's role may not make this call, chime:AssociatePhoneNumbersWithVoiceConnectorGroup (Explicit deny in a service control policy); " +
      "allow it on Resource \"*\" in the role's permissions boundary and your SCPs (the README's Security section lists every action the handler needs)",
    );
    const lookup = remedy(failed({
      code: 'AccessDeniedException',
      message: 'could not look up the current owner before forcing it over: User is not authorized to perform: chime:GetPhoneNumber',
    }));
    expect(lookup).toContain('may not make this call, chime:GetPhoneNumber (could not look up the current owner');
    expect(remedy(failed({ code: 'AccessDeniedException', action: 'disassociate' })))
      .toContain('chime:DisassociatePhoneNumbersFromVoiceConnectorGroup (no detail)');
  });

  test('a missing group names the group, the region and how to list the groups', () => {
    const region = process.env.AWS_REGION;
    process.env.AWS_REGION = 'eu-central-1';
    try {
      expect(remedy(failed({ code: 'NotFoundException' }))).toBe(
        `voice connector group ${GROUP_A} was not found in eu-central-1; voiceConnectorGroupId must name a group in the stack's account and region: ` +
        "check it and the stack's region (aws chime-sdk-voice list-voice-connector-groups lists the groups)",
      );
    } finally {
      if (region === undefined) delete process.env.AWS_REGION; else process.env.AWS_REGION = region;
    }
  });

  test('an unknown code keeps the service message and points at the log', () => {
    expect(remedy(failed({ code: 'Conflict', message: 'in use' }))).toBe('in use; the handler log has the full error');
    expect(remedy(failed({ code: 'Conflict' }))).toBe('the service gave no detail; the handler log has the full error');
  });
});

describe('remedy, undo failures', () => {
  test('a number the undo could not bind back because it is bound elsewhere now names the owner and the command (was "bound elsewhere; set forceAssociate")', () => {
    const line = undoLine(update, failed({ action: 'restore', code: 'PhoneNumberAssociationsExist', owner: { kind: 'voiceConnector', id: OTHER_VC } }));
    expect(line).toBe(
      `- ${n0}: PhoneNumberAssociationsExist: not bound back to voice connector group ${GROUP_A}, where it was before this attempt: ` +
      `it is now bound to voice connector ${OTHER_VC}. If it belongs on ${GROUP_A}, take it back with aws chime-sdk-voice ` +
      `associate-phone-numbers-with-voice-connector-group --voice-connector-group-id ${GROUP_A} --e164-phone-numbers ${n0} --force-associate; ` +
      'otherwise leave it where it is',
    );
  });

  test('with no owner known, the undo failure says how to find where the number is', () => {
    const line = undoLine(update, failed({ action: 'restore', code: 'PhoneNumberAssociationsExist' }));
    expect(line).not.toContain('bound elsewhere');
    expect(line).not.toContain('set forceAssociate');
    expect(line).toContain(`it is now bound to another voice connector or group (the handler could not look up which: aws chime-sdk-voice get-phone-number --phone-number-id ${n0} shows it)`);
  });

  test('a number the undo could not unbind says it is still bound and gives the command', () => {
    expect(undoLine(create, failed({ action: 'disassociate', code: 'Throttling' }))).toBe(
      `- ${n0}: Throttling: still bound to voice connector group ${GROUP_A}, which this attempt bound it to (the service kept failing the call after every retry); ` +
      `if it does not belong there, unbind it with aws chime-sdk-voice disassociate-phone-numbers-from-voice-connector-group --voice-connector-group-id ${GROUP_A} ` +
      `--e164-phone-numbers ${n0}`,
    );
  });

  test('a number the undo could not bind back to the resource\'s own group gives the plain command', () => {
    expect(undoLine(update, failed({ action: 'restore', code: OUT_OF_TIME, message: 'the handler ran short of time before this number' }))).toBe(
      `- ${n0}: ${OUT_OF_TIME}: not bound back to voice connector group ${GROUP_A}, where it was before this attempt (the handler ran short of time before this number); ` +
      `bind it back with aws chime-sdk-voice associate-phone-numbers-with-voice-connector-group --voice-connector-group-id ${GROUP_A} --e164-phone-numbers ${n0}`,
    );
  });

  test('a number the undo could not hand back to the owner forceAssociate took it from gives both commands', () => {
    const line = undoLine(update, failed({ action: 'restore', groupId: OTHER_VC, code: 'ServiceUnavailable' }));
    expect(line).toContain(`not handed back to ${OTHER_VC}, where it was before this attempt took it with forceAssociate (the service kept failing the call after every retry)`);
    expect(line).toContain(`--voice-connector-group-id ${OTHER_VC} --e164-phone-numbers ${n0} --force-associate`);
    expect(line).toContain(`associate-phone-numbers-with-voice-connector --voice-connector-id ${OTHER_VC} --e164-phone-numbers ${n0} --force-associate`);
  });

  test('a restore failure is worded as an undo wherever it is listed', () => {
    expect(remedy(failed({ action: 'restore', code: 'PhoneNumberAssociationsExist' }))).toMatch(/^not bound back to voice connector group/);
    // A Delete whose listing failed after it started unbinding lists its re-bind failures as the failures, too.
    const del: BindingRequest = { type: 'Delete', logicalId: LOGICAL_ID, physicalId: 'id', previous: { groupId: GROUP_A, numbers: [n0], forceAssociate: false, peerNumbers: new Set() } };
    const restore = failed({ action: 'restore', code: 'Throttling' });
    const message = failureMessage(del, [restore], [restore], 1);
    expect(message.split('\n')[1]).toBe(`- ${n0}: Throttling: not bound back to voice connector group ${GROUP_A}, where it was before this attempt ` +
      '(the service kept failing the call after every retry); bind it back with aws chime-sdk-voice associate-phone-numbers-with-voice-connector-group ' +
      `--voice-connector-group-id ${GROUP_A} --e164-phone-numbers ${n0}`);
  });
});

describe('undo failures through the handler', () => {
  let fake: FakeVoice;
  beforeEach(() => {
    fake = new FakeVoice([GROUP_A, OTHER_GROUP]);
  });
  afterEach(() => fake.restore());

  test('a number taken by someone else while the attempt ran is reported with where it is now (or how to find out)', async () => {
    fake.own([n0, n1, n2], { kind: 'group', id: GROUP_A }).script('disassociate', n2, 'Conflict');
    // Someone else binds n1 as soon as the update lets it go, so the undo cannot bind it back.
    const disassociate = (fake as unknown as { disassociate: (g: string, n: string[]) => Promise<unknown> }).disassociate.bind(fake);
    (fake as unknown as { disassociate: unknown }).disassociate = async (groupId: string, list: string[]) => {
      const result = await disassociate(groupId, list);
      if (list.includes(n1) && !fake.owners.has(n1)) fake.owners.set(n1, { kind: 'group', id: OTHER_GROUP });
      return result;
    };
    const far = Date.now() + 60 * 60_000;
    const settings = { batchSize: 10, concurrency: 4, numberAttempts: 2, log: createLogger('ERROR', () => undefined), retryTiming: { sleep: async () => undefined, random: () => 0 } };
    const event = updateEvent(props({ numbers: [n0] }), props({ numbers: [n0, n1, n2] }), physicalIdFor(GROUP_A, LOGICAL_ID));
    const message = await reconcile(parseRequest(event), fake.client, settings, { forward: far, end: far }).then(() => '', (e: Error) => e.message);

    expect(message).toContain(`- ${n2}: Conflict: `);
    expect(message).toContain("Undoing this attempt's 1 change(s) failed for 1 number(s); fix them by hand:");
    const line = message.split('\n').find((l) => l.startsWith(`- ${n1}: PhoneNumberAssociationsExist: `));
    expect(line).toContain(`not bound back to voice connector group ${GROUP_A}, where it was before this attempt: it is now bound to `);
    // Executor.undo looks up the owners of its contested failures, as Executor.run does.
    expect(line).toContain(`it is now bound to voice connector group ${OTHER_GROUP}. If it belongs on ${GROUP_A}, take it back with `);
    expect(fake.owners.get(n1)).toEqual({ kind: 'group', id: OTHER_GROUP });
  });
});

describe('readFailureMessage', () => {
  test('leaves saying what was changed to the caller, which knows', () => {
    const text = readFailureMessage(parseRequest(createEvent(props({ numbers: [n0] }))), [GROUP_A], Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    expect(text).toBe(
      `Create of ${LOGICAL_ID} could not read the phone numbers of voice connector group ${GROUP_A}: AccessDeniedException: not allowed. ` +
      'The handler\'s role needs chime:ListPhoneNumbers and chime:GetPhoneNumber on Resource "*"; check permissions boundaries and SCPs.',
    );
  });
});
