// age X25519 keys: bech32 recipients (age1...) and identities (AGE-SECRET-KEY-1...), as node:crypto
// KeyObjects, plus key generation and a short public fingerprint for manifests and status.
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';
import { OperatorError } from '../../errors.ts';
import { AgeReasons } from './reasons.ts';

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';
// DER prefixes of an X25519 SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo; the raw 32 bytes follow.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface AgeRecipient {
  /** The canonical `age1...` string. */
  readonly text: string;
  readonly publicKey: Buffer;
  readonly keyObject: KeyObject;
}

export interface AgeIdentity {
  readonly publicKey: Buffer;
  readonly keyObject: KeyObject;
  /** The matching recipient string, safe to log. */
  readonly recipient: string;
}

function decodeBech32(text: string, hrp: string, what: string): Buffer {
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(text as `${string}1${string}`, 200);
  } catch {
    // The decoder's own message quotes the text, which for an identity is the secret key: not kept as a cause.
    throw new OperatorError(AgeReasons.InvalidKey, `not a valid ${what}: bad bech32 encoding (a typo, or a truncated key)`, { terminal: true });
  }
  if (decoded.prefix !== hrp) throw new OperatorError(AgeReasons.InvalidKey, `not a valid ${what}: prefix "${decoded.prefix}"`, { terminal: true });
  const bytes = Buffer.from(bech32.fromWords(decoded.words));
  if (bytes.length !== 32) throw new OperatorError(AgeReasons.InvalidKey, `not a valid ${what}: ${bytes.length} key bytes`, { terminal: true });
  return bytes;
}

export function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function privateKeyObject(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

export function rawPrivateKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length));
}

export function encodeRecipient(publicKey: Buffer): string {
  return bech32.encode(RECIPIENT_HRP, bech32.toWords(publicKey), 200);
}

export function parseRecipient(text: string): AgeRecipient {
  const trimmed = text.trim();
  if (!trimmed.startsWith('age1')) throw new OperatorError(AgeReasons.InvalidKey, 'not an age X25519 recipient (expected age1...)', { terminal: true });
  if (trimmed !== trimmed.toLowerCase()) throw new OperatorError(AgeReasons.InvalidKey, 'an age recipient must be lower case', { terminal: true });
  const publicKey = decodeBech32(trimmed, RECIPIENT_HRP, 'age recipient');
  return { text: trimmed, publicKey, keyObject: publicKeyObject(publicKey) };
}

export function parseIdentity(text: string): AgeIdentity {
  const trimmed = text.trim();
  if (!trimmed.startsWith('AGE-SECRET-KEY-1')) throw new OperatorError(AgeReasons.InvalidKey, 'not an age X25519 identity (expected AGE-SECRET-KEY-1...)', { terminal: true });
  const secret = decodeBech32(trimmed, IDENTITY_HRP, 'age identity');
  const keyObject = privateKeyObject(secret);
  const publicKey = rawPublicKey(createPublicKey(keyObject));
  return { publicKey, keyObject, recipient: encodeRecipient(publicKey) };
}

/**
 * Identities from an age identity file, read as the age CLI reads one: one AGE-SECRET-KEY-1... per
 * line, `#` comment lines and blank lines skipped, CRLF or LF line ends (and a UTF-8 BOM) accepted.
 * Any of them may match when decrypting. Errors name the line number, never its text.
 */
export function parseIdentityFile(text: string): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed.startsWith('AGE-PLUGIN-')) {
      throw new OperatorError(AgeReasons.InvalidKey, `age identity file line ${index + 1}: plugin identities (AGE-PLUGIN-...) are not supported; use an X25519 identity from age-keygen`, { terminal: true });
    }
    try {
      identities.push(parseIdentity(trimmed));
    } catch (error) {
      const why = error instanceof OperatorError ? error.message : 'not an age identity';
      throw new OperatorError(AgeReasons.InvalidKey, `age identity file line ${index + 1}: ${why}`, { terminal: true });
    }
  }
  if (identities.length === 0) throw new OperatorError(AgeReasons.InvalidKey, 'no age identity (AGE-SECRET-KEY-1...) found in the identity file', { terminal: true });
  return identities;
}

export interface GeneratedIdentity {
  identity: string;
  recipient: string;
}

/** A new X25519 key pair in age's text forms (what `age-keygen` prints). */
export function generateIdentity(): GeneratedIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const secret = rawPrivateKey(privateKey);
  return {
    identity: bech32.encode(IDENTITY_HRP, bech32.toWords(secret), 200).toUpperCase(),
    recipient: encodeRecipient(rawPublicKey(publicKey)),
  };
}

/** Short, stable, public identifier of a recipient: first 16 hex chars of SHA-256 of its public key. */
export function recipientFingerprint(recipient: string | AgeRecipient): string {
  const parsed = typeof recipient === 'string' ? parseRecipient(recipient) : recipient;
  return createHash('sha256').update(parsed.publicKey).digest('hex').slice(0, 16);
}

/** X25519(private, public) as raw bytes. */
export function x25519(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  return diffieHellman({ privateKey, publicKey });
}
