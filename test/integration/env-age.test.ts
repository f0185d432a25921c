// Smoke test of the age CLI the tests use for interoperability checks: it encrypts to a generated
// X25519 recipient, decrypts with the matching identity, and refuses a different identity.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../env/process.ts';
import { ageBinary, ageKeygenBinary } from '../env/tools.ts';

function keygen(path: string): string {
  const out = spawnSync(ageKeygenBinary(), ['-o', path], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(readFileSync(path, 'utf8'))?.[1];
  assert.ok(recipient, 'age-keygen wrote no public key');
  return recipient;
}

describe('age CLI', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('age');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('encrypts to an X25519 recipient and decrypts with its identity only', () => {
    const recipient = keygen(join(dir, 'key.txt'));
    keygen(join(dir, 'other.txt'));
    const plain = randomBytes(3 * 1024 * 1024 + 17); // several 64 KiB STREAM chunks, odd tail
    writeFileSync(join(dir, 'plain.bin'), plain);

    const enc = spawnSync(ageBinary(), ['-r', recipient, '-o', join(dir, 'cipher.age'), join(dir, 'plain.bin')]);
    assert.equal(enc.status, 0, enc.stderr.toString());
    const cipher = readFileSync(join(dir, 'cipher.age'));
    assert.equal(cipher.subarray(0, 21).toString(), 'age-encryption.org/v1');
    assert.match(cipher.subarray(0, 200).toString('latin1'), /-> X25519 /);
    assert.equal(cipher.indexOf(plain.subarray(0, 64)), -1);

    // Through stdin/stdout, as a pipeline (pg_dump | zstd | age) would use it.
    const dec = spawnSync(ageBinary(), ['-d', '-i', join(dir, 'key.txt')], { input: cipher, maxBuffer: 64 * 1024 * 1024 });
    assert.equal(dec.status, 0, dec.stderr.toString());
    assert.ok(dec.stdout.equals(plain));

    const wrong = spawnSync(ageBinary(), ['-d', '-i', join(dir, 'other.txt')], { input: cipher });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr.toString(), /no identity matched/);
  });

  // Interop of the project's own age code with this CLI, both ways: test/integration/age-cli.test.ts.
});
