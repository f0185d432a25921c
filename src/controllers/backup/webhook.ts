// Posts a backup's outcome to the policy's webhook: JSON, 10 s timeout, no retries (the next backup
// reports again). The URL comes from a Secret because it often carries a token; it is never logged.
import { OperatorError } from '../../errors.ts';

export interface BackupWebhookPayload {
  kind: 'BackupFinished';
  namespace: string;
  policy: string;
  backup: string;
  phase: string;
  reason?: string;
  message?: string;
  encryptedBytes?: number;
  sha256?: string;
  destinations?: Array<{ name: string; verified?: boolean }>;
  completionTime?: string;
}

export type WebhookSender = (url: string, payload: BackupWebhookPayload) => Promise<void>;

export const postWebhook: WebhookSender = async (url, payload) => {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'lokdarpan-operator' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new OperatorError('WebhookFailed', `webhook request failed: ${(error as Error).message}`);
  }
  if (!response.ok) throw new OperatorError('WebhookFailed', `webhook answered HTTP ${response.status}`);
};
