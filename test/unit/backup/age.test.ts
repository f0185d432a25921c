// age v1 on node:crypto: round trips at chunk boundaries, several recipients, wrong key, corruption,
// truncation, strict header parsing, and interop with the independent age-encryption package.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AgeDecryptStream, AgeEncryptStream, CHUNK_SIZE, decryptBuffer, encryptBuffer, generateIdentity, parseIdentity, parseIdentityFile, parseRecipient, payloadSize, recipientFingerprint,
} from '../../../src/adapters/age/index.ts';
import { isOperatorError } from '../../../src/errors.ts';

const SIZES = [0, 1, 100, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 17];

function assertDecryptionFailed(error: unknown): true {
  assert.ok(isOperatorError(error), `expected an OperatorError, got ${String(error)}`);
  assert.equal(error.reason, 'DecryptionFailed');
  return true;
}

describe('age keys', () => {
  it('derives the recipient of a generated identity', () => {
    const pair = generateIdentity();
    assert.match(pair.identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    assert.match(pair.recipient, /^age1[0-9a-z]{58}$/);
    assert.equal(parseIdentity(pair.identity).recipient, pair.recipient);
    assert.equal(parseRecipient(pair.recipient).text, pair.recipient);
  });

  it('rejects malformed keys with InvalidKey', () => {
    const pair = generateIdentity();
    const broken = pair.recipient.slice(0, -1) + (pair.recipient.endsWith('q') ? 'p' : 'q');
    for (const bad of [broken, 'age1', 'ssh-ed25519 AAAA', pair.recipient.toUpperCase()]) {
      assert.throws(() => parseRecipient(bad), (e: unknown) => isOperatorError(e) && e.reason === 'InvalidKey', bad);
    }
    assert.throws(() => parseIdentity(pair.recipient), (e: unknown) => isOperatorError(e) && e.reason === 'InvalidKey');
  });

  it('reads key files with comments and gives stable distinct fingerprints', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const ids = parseIdentityFile(`# created: now\n# public key: ${a.recipient}\n${a.identity}\n\n${b.identity}\n`);
    assert.deepEqual(ids.map((i) => i.recipient), [a.recipient, b.recipient]);
    assert.match(recipientFingerprint(a.recipient), /^[0-9a-f]{16}$/);
    assert.equal(recipientFingerprint(a.recipient), recipientFingerprint(parseRecipient(a.recipient)));
    assert.notEqual(recipientFingerprint(a.recipient), recipientFingerprint(b.recipient));
  });
});

describe('age streams', () => {
  it('round-trips every size around the 64 KiB chunk boundary, with the exact expected length', async () => {
    const pair = generateIdentity();
    for (const size of SIZES) {
      const plain = randomBytes(size);
      const encrypted = await encryptBuffer(plain, [pair.recipient]);
      const headerEnd = encrypted.indexOf('\n--- ') + 1;
      const header = encrypted.subarray(0, encrypted.indexOf(0x0a, headerEnd) + 1);
      assert.equal(encrypted.length - header.length, payloadSize(size), `payload size for ${size}`);
      assert.deepEqual(await decryptBuffer(encrypted, [pair.identity]), plain, `size ${size}`);
    }
  });

  it('encrypts to several recipients; each identity alone decrypts; a foreign key does not', async () => {
    const recipients = [generateIdentity(), generateIdentity(), generateIdentity()];
    const plain = randomBytes(150_000);
    const encrypted = await encryptBuffer(plain, recipients.map((r) => r.recipient));
    for (const r of recipients) assert.deepEqual(await decryptBuffer(encrypted, [r.identity]), plain);
    const stranger = generateIdentity();
    await assert.rejects(decryptBuffer(encrypted, [stranger.identity]), (e) => assertDecryptionFailed(e) && /wrong key/.test((e as Error).message));
    // A key file with a wrong key first and a right one later still works.
    assert.deepEqual(await decryptBuffer(encrypted, [stranger.identity, recipients[2]!.identity]), plain);
  });

  it('fails on a flipped bit anywhere: header, nonce, middle chunk, last chunk', async () => {
    const pair = generateIdentity();
    const plain = randomBytes(3 * CHUNK_SIZE + 5);
    const encrypted = await encryptBuffer(plain, [pair.recipient]);
    const headerLen = encrypted.indexOf(0x0a, encrypted.indexOf('\n--- ') + 1) + 1;
    for (const offset of [30, headerLen - 3, headerLen + 3, headerLen + 16 + CHUNK_SIZE + 100, encrypted.length - 1]) {
      const corrupt = Buffer.from(encrypted);
      corrupt[offset] = (corrupt[offset] as number) ^ 0x01;
      await assert.rejects(decryptBuffer(corrupt, [pair.identity]), assertDecryptionFailed, `offset ${offset}`);
    }
  });

  it('fails on truncation, including exactly at a chunk boundary', async () => {
    const pair = generateIdentity();
    const plain = randomBytes(3 * CHUNK_SIZE);
    const encrypted = await encryptBuffer(plain, [pair.recipient]);
    const headerLen = encrypted.indexOf(0x0a, encrypted.indexOf('\n--- ') + 1) + 1;
    const boundary = headerLen + 16 + 2 * (CHUNK_SIZE + 16);
    for (const length of [0, 10, headerLen - 1, headerLen, headerLen + 10, headerLen + 16, boundary, boundary + 5, encrypted.length - 1]) {
      await assert.rejects(decryptBuffer(encrypted.subarray(0, length), [pair.identity]), assertDecryptionFailed, `length ${length}`);
    }
    // Trailing garbage after the final chunk is refused too.
    await assert.rejects(decryptBuffer(Buffer.concat([encrypted, Buffer.from('x')]), [pair.identity]), assertDecryptionFailed);
  });

  it('handles input arriving in odd-sized pieces', async () => {
    const pair = generateIdentity();
    const plain = randomBytes(2 * CHUNK_SIZE + 999);
    const pieces = (data: Buffer): Buffer[] => {
      const out: Buffer[] = [];
      for (let i = 0, step = 1; i < data.length; i += step, step = (step * 7 + 3) % 20011) out.push(data.subarray(i, i + step));
      return out;
    };
    const encrypted = Buffer.concat(await Readable.from(pieces(plain)).pipe(new AgeEncryptStream([pair.recipient])).toArray());
    const decrypted = Buffer.concat(await Readable.from(pieces(encrypted)).pipe(new AgeDecryptStream([pair.identity])).toArray());
    assert.deepEqual(decrypted, plain);
  });

  it('refuses input that is not an age file', async () => {
    const pair = generateIdentity();
    await assert.rejects(decryptBuffer(randomBytes(200_000), [pair.identity]), assertDecryptionFailed);
    await assert.rejects(decryptBuffer(Buffer.from('age-encryption.org/v1\n-> X25519 !!\nAA\n--- AA\n'), [pair.identity]), assertDecryptionFailed);
  });
});

// Imported by a computed name: the package's .d.ts needs DOM types (CryptoKey, WebAuthn) that this
// project's lib setting leaves out, and skipLibCheck is off. The surface used is declared here.
interface AgeJs {
  Encrypter: new () => { addRecipient(r: string): void; encrypt(data: Uint8Array): Promise<Uint8Array> };
  Decrypter: new () => { addIdentity(i: string): void; decrypt(data: Uint8Array): Promise<Uint8Array> };
}
const ageJsName = 'age-encryption';

describe('age interop with the age-encryption package (independent implementation)', () => {
  it('their output decrypts with us and ours with them, at chunk boundaries and with two recipients', async () => {
    const { Encrypter, Decrypter } = (await import(ageJsName)) as AgeJs;
    const a = generateIdentity();
    const b = generateIdentity();
    for (const size of [0, CHUNK_SIZE, 2 * CHUNK_SIZE + 3]) {
      const plain = randomBytes(size);
      const e = new Encrypter();
      e.addRecipient(a.recipient);
      e.addRecipient(b.recipient);
      const theirs = Buffer.from(await e.encrypt(plain));
      assert.deepEqual(await decryptBuffer(theirs, [b.identity]), plain, `theirs -> ours, ${size}`);

      const ours = await encryptBuffer(plain, [a.recipient, b.recipient]);
      const d = new Decrypter();
      d.addIdentity(a.identity);
      assert.deepEqual(Buffer.from(await d.decrypt(ours)), plain, `ours -> theirs, ${size}`);
    }
  });
});
