// Posts a backup's outcome to the policy's webhook: JSON, 10 s timeout, no retries (the next backup
// reports again). The URL comes from a Secret because it often carries a token (in its userinfo, path
// or query): messages name only its origin, and fetch's own messages (which quote the URL) are never
// passed on.
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

/** scheme://host:port of a webhook URL: no userinfo, path, query or fragment. */
export function describeWebhookUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Why a fetch failed, from its error's codes and names only (its messages quote the URL). */
export function webhookFailureCause(error: unknown): string {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'TimeoutError') return 'no answer within 10 s';
    if (name === 'AbortError') return 'aborted';
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    if (typeof code === 'string' && code.startsWith('UND_ERR_')) return code;
    // fetch's fixed text for ports it never calls (https://fetch.spec.whatwg.org/#port-blocking); quotes nothing.
    if ((e as { message?: unknown }).message === 'bad port') return 'the port is one fetch refuses to call';
  }
  return 'the request could not be sent';
}

export const postWebhook: WebhookSender = async (text, payload) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OperatorError('WebhookFailed', 'the webhook URL in the Secret is not a valid URL', { terminal: true });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OperatorError('WebhookFailed', `the webhook URL in the Secret must be http(s), not ${url.protocol}`, { terminal: true });
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'lokdarpan-operator' };
  // fetch refuses URLs with credentials; send them as HTTP basic auth, which is what they mean.
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers['authorization'] = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const where = describeWebhookUrl(url);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(payload), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new OperatorError('WebhookFailed', `webhook request to ${where} failed: ${webhookFailureCause(error)}`);
  }
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw new OperatorError('WebhookFailed', `webhook ${where} answered HTTP ${response.status}`);
};
