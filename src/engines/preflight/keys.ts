// The keys check: every recipient is a valid age X25519 public key, and the restore drill's identity
// (when there is one) belongs to one of them, so the drill can decrypt what the policy writes.
import { parseIdentity, parseRecipient } from '../../adapters/age/index.ts';
import { OperatorError, describeError } from '../../errors.ts';
import { PreflightReasons } from './reasons.ts';

const short = (recipient: string): string => (recipient.length > 16 ? `${recipient.slice(0, 12)}…${recipient.slice(-4)}` : recipient);

/** Throws InvalidKey or DrillIdentityMismatch; `identityLabel` says where the identity came from (never its value). */
export function checkKeys(recipients: readonly string[], drill?: { identity: string; label: string }): void {
  const parsed = recipients.map((text, i) => {
    try {
      return parseRecipient(text).text;
    } catch (error) {
      throw new OperatorError('InvalidKey', `recipient ${i + 1} (${short(text.trim())}) is not a valid age recipient: ${describeError(error)}`, { cause: error });
    }
  });
  if (drill === undefined) return;
  let own: string;
  try {
    own = parseIdentity(drill.identity).recipient;
  } catch {
    // The parser's message never carries the key, but say nothing of it beyond where it lives.
    throw new OperatorError('InvalidKey', `the restore drill identity (${drill.label}) is not an age X25519 identity (AGE-SECRET-KEY-1...)`);
  }
  if (!parsed.includes(own)) {
    throw new OperatorError(
      PreflightReasons.DrillIdentityMismatch,
      `the restore drill identity (${drill.label}) is for ${short(own)}, which is not among the ${parsed.length} recipient(s): the drill could not decrypt the backups`,
    );
  }
}
