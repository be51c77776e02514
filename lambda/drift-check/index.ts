import type { Context } from 'aws-lambda';
import { checkDrift, type DriftCheckEvent, type DriftCheckResult } from './drift';
import { ANSWER_MARGIN_MS } from '../phone-numbers/budget';
import { settingsFromEnvironment } from '../phone-numbers/settings';
import { deployTimeClient } from '../shared/client';
import { awsReaders } from '../shared/control-plane';

/** Lambda entry point of the scheduled drift check (an EventBridge rule's input, one group per rule). */
export async function handler(event: DriftCheckEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<DriftCheckResult> {
  const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 10 * 60_000) - ANSWER_MARGIN_MS;
  const settings = settingsFromEnvironment(process.env);
  return checkDrift(event, deployTimeClient(() => deadline), settings, awsReaders(process.env), deadline);
}
