import { ChimeSDKVoiceClient, GetPhoneNumberCommand } from '@aws-sdk/client-chime-sdk-voice';
import { mockClient } from 'aws-sdk-client-mock';
import { numbers } from './fixtures';
import { lookupOwners, READS_IN_FLIGHT } from '../../lambda/observe';

describe('lookupOwners', () => {
  const mock = mockClient(ChimeSDKVoiceClient);
  afterAll(() => mock.restore());

  test('sends up to READS_IN_FLIGHT reads at once even when writes are limited to fewer, and no more', async () => {
    let inFlight = 0;
    let most = 0;
    mock.on(GetPhoneNumberCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return { PhoneNumber: { Associations: [{ Name: 'VoiceConnectorGroupId', Value: 'vcg-a' }] } };
    });
    const owners = await lookupOwners(new ChimeSDKVoiceClient({ region: 'us-east-1' }), numbers(READS_IN_FLIGHT * 2), 4);
    expect(owners.size).toBe(READS_IN_FLIGHT * 2);
    expect(most).toBe(READS_IN_FLIGHT);
  });
});
