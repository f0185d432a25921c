// age identity files as the age CLI reads them (comments, blank lines, CRLF, several identities, any
// one of which decrypts), low-order X25519 shares refused as the spec requires (abort, not skip), and
// errors about a bad identity that never quote the key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptBuffer, encryptBuffer, generateIdentity, parseIdentityFile } from '../../../src/adapters/age/index.ts';
import { b64encode, encodeHeader, wrapX25519, type Stanza } from '../../../src/adapters/age/header.ts';
import { parseRecipient } from '../../../src/adapters/age/keys.ts';
import { isOperatorError } from '../../../src/errors.ts';

/** Every 8-character piece of `secret`: a message holding any of them quotes part of the key. */
function assertNoPieceOf(secret: string, text: string): void {
  for (let i = 0; i + 8 <= secret.length; i++) assert.ok(!text.includes(secret.slice(i, i + 8)), `the message quotes the key: ${text}`);
}

describe('age identity files', () => {
  it('reads what age-keygen writes, with CRLF, blank lines, comments and several identities; any one decrypts', async () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const file = `\uFEFF# created: 2026-12-04T00:00:00Z\r\n# public key: ${a.recipient}\r\n${a.identity}\r\n\r\n   \n# second key\n${b.identity}\n`;
    assert.deepEqual(parseIdentityFile(file).map((i) => i.recipient), [a.recipient, b.recipient]);
    const plain = randomBytes(1000);
    assert.deepEqual(await decryptBuffer(await encryptBuffer(plain, [b.recipient]), [file]), plain, 'the second identity of the file decrypts');
    assert.deepEqual(await decryptBuffer(await encryptBuffer(plain, [a.recipient]), [file]), plain, 'the first identity of the file decrypts');
  });

  it('refuses a file without identities, and a bad line with its number but never its text', () => {
    const a = generateIdentity();
    assert.throws(() => parseIdentityFile('# only a comment\n\n'), (e: unknown) => isOperatorError(e) && e.reason === 'InvalidKey' && /no age identity/.test(e.message));
    const typo = a.identity.slice(0, 30) + (a.identity[30] === 'Q' ? 'P' : 'Q') + a.identity.slice(31);
    const truncated = a.identity.slice(0, -5);
    for (const bad of [typo, truncated, `${a.identity}X`]) {
      assert.throws(
        () => parseIdentityFile(`# comment\n${bad}\n`),
        (e: unknown) => {
          assert.ok(isOperatorError(e) && e.reason === 'InvalidKey', String(e));
          assert.match(e.message, /line 2/);
          assertNoPieceOf(bad.slice(16), `${e.message} ${String(e.cause ?? '')} ${JSON.stringify(e.details)}`);
          return true;
        },
      );
    }
    assert.throws(() => parseIdentityFile('AGE-PLUGIN-YUBIKEY-1ABCDEF\n'), /plugin identities .* not supported/);
  });
});

describe('age low-order shares', () => {
  // X25519 points of small order: the shared secret with any private key is all zeroes.
  const LOW_ORDER = [Buffer.alloc(32), Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]), Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex')];

  for (const [index, point] of LOW_ORDER.entries()) {
    it(`aborts on a stanza with low-order share #${index + 1} instead of skipping it`, async () => {
      const pair = generateIdentity();
      const fileKey = randomBytes(16);
      const evil: Stanza = { type: 'X25519', args: [b64encode(point)], body: randomBytes(32) };
      const good = wrapX25519(fileKey, parseRecipient(pair.recipient));
      const file = Buffer.concat([encodeHeader(fileKey, [evil, good]), randomBytes(16 + 32)]);
      await assert.rejects(decryptBuffer(file, [pair.identity]), (e: unknown) => {
        assert.ok(isOperatorError(e) && e.reason === 'DecryptionFailed', String(e));
        assert.match(e.message, /low-order share/);
        return true;
      });
      // Without the low-order stanza the same header opens (the payload bytes are random, so that fails later, differently).
      const clean = Buffer.concat([encodeHeader(fileKey, [good]), randomBytes(16 + 32)]);
      await assert.rejects(decryptBuffer(clean, [pair.identity]), (e: unknown) => isOperatorError(e) && !/low-order/.test(e.message) && /payload/.test(e.message));
    });
  }
});
