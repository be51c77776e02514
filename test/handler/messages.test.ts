import { ErrorCode } from '@aws-sdk/client-chime-sdk-voice';
import { GROUP_A, numbers } from './fixtures';
import { ERROR_CODES, isDenied, isTransient } from '../../lambda/phone-numbers/error-codes';
import type { NumberFailure } from '../../lambda/phone-numbers/execute';
import { failureMessage, fitted, messageBudget, refusalMessage, remedy, RESPONSE_MAX_BYTES } from '../../lambda/phone-numbers/messages';

const failure = (number: string, code: string, extra: Partial<NumberFailure> = {}): NumberFailure =>
  ({ number, groupId: GROUP_A, action: 'associate', code, message: `${code} for ${number}`, ...extra });

describe('error codes', () => {
  test('all 17 codes of the SDK\'s model are classified, each with a reason', () => {
    const model = Object.values(ErrorCode).sort();
    expect(model).toHaveLength(17);
    expect(Object.keys(ERROR_CODES).sort()).toEqual(model);
    for (const { why } of Object.values(ERROR_CODES)) expect(why.length).toBeGreaterThan(20);
  });

  test('transient: throttling, service faults and Conflict; denied: the three access codes; the rest permanent', () => {
    expect(Object.values(ErrorCode).filter(isTransient).sort()).toEqual(['Conflict', 'ServiceFailure', 'ServiceUnavailable', 'Throttled', 'Throttling']);
    expect(Object.values(ErrorCode).filter(isDenied).sort()).toEqual(['AccessDenied', 'Forbidden', 'Unauthorized']);
  });

  test('every code has a remedy a person can act on', () => {
    for (const code of Object.values(ErrorCode)) expect(remedy(failure('+12065550100', code)).length).toBeGreaterThan(30);
  });
});

describe('messages inside CloudFormation\'s 4,096-byte response', () => {
  test('200 failures: the message fits its budget, shows refusals first, and counts what it left out', () => {
    const many = [...numbers(199).map((n) => failure(n, 'NotFound')), failure('+12065559999', 'PhoneNumberAssociationsExist', { owner: { kind: 'group', id: 'vcg-x' } })];
    const pid = `vcgpn2/5/${'x'.repeat(900)}`;
    const message = failureMessage('Update of Shard05', many, { changed: 3, left: [] }, messageBudget(pid));
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThan(RESPONSE_MAX_BYTES - Buffer.byteLength(pid) - 600);
    expect(message.split('\n')[1]).toContain('+12065559999: PhoneNumberAssociationsExist: bound to voice connector group vcg-x');
    expect(message).toMatch(/- and \d+ more \(every number is in the handler's log, with its error\)/);
    expect(message).toContain('The 3 change(s) this attempt made were undone.');
  });

  test('a refusal names each number, where it is bound, and says nothing was changed', () => {
    const [n] = numbers(1);
    const message = refusalMessage('Create of X', [{ number: n, groupId: GROUP_A, owner: { kind: 'voiceConnector', id: 'vc-1' } }], 3000);
    expect(message).toContain(`${n}: PhoneNumberAssociationsExist: bound to voice connector vc-1; set forceAssociate: true`);
    expect(message).toContain('Nothing was changed.');
  });

  test('fitted keeps header and footer, whatever the lines', () => {
    const text = fitted('header', Array.from({ length: 100 }, (_, i) => `- line ${i} ${'x'.repeat(50)}`), 'footer', 1000);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1000);
    expect(text.startsWith('header\n')).toBe(true);
    expect(text.endsWith('\nfooter')).toBe(true);
  });
});
