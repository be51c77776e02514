import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { deployTimeClient } from '../shared/client';

/**
 * A client for one invocation, with the same deploy-time retry policy as the number handler: a throttled
 * or failing service is retried with backoff until the invocation's deadline, not 3 times. Region and
 * endpoint come from the SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_CHIME_SDK_VOICE).
 */
export function groupClient(deadline: number): ChimeSDKVoiceClient {
  return deployTimeClient(() => deadline);
}
