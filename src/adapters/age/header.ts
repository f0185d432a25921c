// The age v1 header (https://age-encryption.org/v1): version line, recipient stanzas, HMAC line.
// Only X25519 stanzas are produced; unknown stanza types are skipped when decrypting, as age does.
import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, hkdfSync, timingSafeEqual } from 'node:crypto';
import { OperatorError } from '../../errors.ts';
import { AgeReasons } from './reasons.ts';
import { publicKeyObject, rawPublicKey, x25519, type AgeIdentity, type AgeRecipient } from './keys.ts';

export const VERSION_LINE = 'age-encryption.org/v1';
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const ZERO_NONCE = Buffer.alloc(12);
const BASE64_LINE = 64;
/** A header larger than this is refused (age headers are a few hundred bytes per recipient). */
export const MAX_HEADER_BYTES = 1 << 20;

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

export function hkdf(ikm: Buffer, salt: Buffer, info: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

export function b64encode(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Strict, unpadded, canonical base64 (as age requires). */
export function b64decode(text: string): Buffer {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) throw headerError('invalid base64 in header');
  const bytes = Buffer.from(text, 'base64');
  if (b64encode(bytes) !== text) throw headerError('non-canonical base64 in header');
  return bytes;
}

function headerError(message: string): OperatorError {
  return new OperatorError(AgeReasons.DecryptionFailed, `age header: ${message}`, { terminal: true });
}

function aeadSeal(key: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Opens a ChaCha20-Poly1305 box, or returns undefined when authentication fails. */
function aeadOpen(key: Buffer, nonce: Buffer, box: Buffer): Buffer | undefined {
  if (box.length < 16) return undefined;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(box.subarray(box.length - 16));
  const plain = decipher.update(box.subarray(0, box.length - 16));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plain;
}

export function wrapX25519(fileKey: Buffer, recipient: AgeRecipient): Stanza {
  const ephemeral = generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  const shared = x25519(ephemeral.privateKey, recipient.keyObject);
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient.publicKey]), X25519_LABEL);
  return { type: 'X25519', args: [b64encode(share)], body: aeadSeal(wrapKey, ZERO_NONCE, fileKey) };
}

/** The file key if this X25519 stanza is addressed to `identity`, otherwise undefined. */
export function unwrapX25519(stanza: Stanza, identity: AgeIdentity): Buffer | undefined {
  if (stanza.args.length !== 1 || stanza.body.length !== 32) throw headerError('invalid X25519 stanza');
  const share = b64decode(stanza.args[0] as string);
  if (share.length !== 32) throw headerError('invalid X25519 share');
  // A low-order share gives an all-zero shared secret (node:crypto refuses to compute it); the age
  // spec says the decryptor MUST abort then, not skip the stanza.
  let shared: Buffer;
  try {
    shared = x25519(identity.keyObject, publicKeyObject(share));
  } catch {
    throw headerError('an X25519 stanza has a low-order share (malformed or malicious file); refusing to decrypt');
  }
  if (shared.every((b) => b === 0)) throw headerError('an X25519 stanza has a low-order share (malformed or malicious file); refusing to decrypt');
  const wrapKey = hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_LABEL);
  return aeadOpen(wrapKey, ZERO_NONCE, stanza.body);
}

function stanzaText(stanza: Stanza): string {
  const encoded = b64encode(stanza.body);
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += BASE64_LINE) lines.push(encoded.slice(i, i + BASE64_LINE));
  // The last body line is always shorter than 64 columns (possibly empty).
  if (encoded.length % BASE64_LINE === 0) lines.push('');
  return `-> ${[stanza.type, ...stanza.args].join(' ')}\n${lines.join('\n')}\n`;
}

function headerMac(fileKey: Buffer, headerUpToDashes: Buffer): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(headerUpToDashes).digest();
}

/** The complete header, ending with the MAC line and its newline. */
export function encodeHeader(fileKey: Buffer, stanzas: Stanza[]): Buffer {
  const upToDashes = Buffer.from(`${VERSION_LINE}\n${stanzas.map(stanzaText).join('')}---`, 'latin1');
  return Buffer.concat([upToDashes, Buffer.from(` ${b64encode(headerMac(fileKey, upToDashes))}\n`, 'latin1')]);
}

export interface ParsedHeader {
  stanzas: Stanza[];
  mac: Buffer;
  /** Header bytes up to and including "---", which the MAC covers. */
  macInput: Buffer;
}

/**
 * Finds the end of the header in `data` (the index just past the MAC line's newline), or -1 if
 * the header is not complete yet.
 */
export function headerLength(data: Buffer): number {
  const marker = data.indexOf('\n--- ', 0, 'latin1');
  if (marker < 0) return -1;
  const end = data.indexOf(0x0a, marker + 5);
  return end < 0 ? -1 : end + 1;
}

export function parseHeader(header: Buffer): ParsedHeader {
  const text = header.toString('latin1');
  if (!/^[\x20-\x7e\n]*$/.test(text)) throw headerError('not ASCII');
  const lines = text.split('\n');
  if (lines[0] !== VERSION_LINE) throw headerError(`not an age v1 file`);
  const stanzas: Stanza[] = [];
  let i = 1;
  for (;;) {
    const line = lines[i++];
    if (line === undefined) throw headerError('unexpected end of header');
    if (line.startsWith('--- ')) {
      const mac = b64decode(line.slice(4));
      if (mac.length !== 32) throw headerError('invalid MAC length');
      const macEnd = header.indexOf('\n--- ', 0, 'latin1') + 4;
      if (stanzas.length === 0) throw headerError('no recipient stanzas');
      return { stanzas, mac, macInput: header.subarray(0, macEnd) };
    }
    if (!line.startsWith('-> ')) throw headerError('malformed stanza line');
    const parts = line.slice(3).split(' ');
    if (parts.some((p) => p === '')) throw headerError('empty stanza argument');
    const [type, ...args] = parts as [string, ...string[]];
    let encoded = '';
    for (;;) {
      const bodyLine = lines[i++];
      if (bodyLine === undefined) throw headerError('unexpected end of stanza body');
      if (bodyLine.length > BASE64_LINE) throw headerError('stanza body line too long');
      encoded += bodyLine;
      if (bodyLine.length < BASE64_LINE) break;
    }
    stanzas.push({ type, args, body: b64decode(encoded) });
  }
}

/** Finds the file key with one of the identities and checks the header MAC. */
export function openHeader(parsed: ParsedHeader, identities: readonly AgeIdentity[]): Buffer {
  let sawX25519 = false;
  for (const stanza of parsed.stanzas) {
    if (stanza.type !== 'X25519') continue;
    sawX25519 = true;
    for (const identity of identities) {
      const fileKey = unwrapX25519(stanza, identity);
      if (fileKey === undefined) continue;
      if (fileKey.length !== 16) throw headerError('invalid file key length');
      const expected = headerMac(fileKey, parsed.macInput);
      if (!timingSafeEqual(expected, parsed.mac)) throw headerError('header MAC mismatch (corrupted header)');
      return fileKey;
    }
  }
  throw new OperatorError(
    AgeReasons.DecryptionFailed,
    sawX25519 ? 'no identity matches any recipient of this age file (wrong key)' : 'the age file has no X25519 recipient stanza',
    { terminal: true },
  );
}
