// Interop of the project's age implementation with the real `age` CLI (1.1.x), both directions:
// several recipients, empty input, exact multiples of 64 KiB, and corrupted/truncated input failing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CHUNK_SIZE, decryptBuffer, encryptBuffer, parseIdentityFile } from '../../src/adapters/age/index.ts';
import { isOperatorError } from '../../src/errors.ts';
import { ageBinary, ageKeygenBinary } from '../env/tools.ts';

const run = promisify(execFile);
const AGE = ((): string | undefined => {
  try {
    return ageBinary();
  } catch {
    return undefined;
  }
})();
const KEYGEN = AGE === undefined ? 'age-keygen' : ageKeygenBinary();
const ageAvailable = AGE !== undefined && spawnSync(AGE, ['--version']).status === 0;
const SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 5 * CHUNK_SIZE + 1234];

describe('age CLI interop', { skip: ageAvailable ? false : 'the age CLI is not installed (apt-get install -y age)' }, () => {
  let dir = '';
  const keys: Array<{ file: string; recipient: string; identity: string }> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lokdarpan-age-'));
    for (const name of ['a', 'b']) {
      const file = join(dir, `${name}.key`);
      await run(KEYGEN, ['-o', file]);
      const text = await readFile(file, 'utf8');
      const [identity] = parseIdentityFile(text);
      const recipient = (await run(KEYGEN, ['-y', file])).stdout.trim();
      assert.equal(identity?.recipient, recipient, 'our derivation of the public key matches age-keygen -y');
      keys.push({ file, recipient, identity: text.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1')) as string });
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('age -d decrypts what we encrypt (two recipients, each key alone)', async () => {
    for (const size of SIZES) {
      const plain = randomBytes(size);
      const file = join(dir, `ours-${size}.age`);
      await writeFile(file, await encryptBuffer(plain, keys.map((k) => k.recipient)));
      for (const key of keys) {
        // stdout, not -o: age creates the -o file lazily, so an empty plaintext leaves none.
        const { stdout } = await run(AGE as string, ['-d', '-i', key.file, file], { encoding: 'buffer', maxBuffer: 64 << 20 });
        assert.deepEqual(stdout, plain, `size ${size}`);
      }
    }
  });

  it('we decrypt what age -r encrypts (two recipients, each key alone)', async () => {
    for (const size of SIZES) {
      const plain = randomBytes(size);
      const input = join(dir, `plain-${size}`);
      const file = join(dir, `theirs-${size}.age`);
      await writeFile(input, plain);
      await run(AGE as string, ['-r', keys[0]!.recipient, '-r', keys[1]!.recipient, '-o', file, input]);
      const encrypted = await readFile(file);
      for (const key of keys) assert.deepEqual(await decryptBuffer(encrypted, [key.identity]), plain, `size ${size}`);
    }
  });

  it('age -d refuses our output when truncated at a chunk boundary or corrupted', async () => {
    const plain = randomBytes(3 * CHUNK_SIZE);
    const encrypted = await encryptBuffer(plain, [keys[0]!.recipient]);
    const headerLen = encrypted.indexOf(0x0a, encrypted.indexOf('\n--- ') + 1) + 1;
    const truncated = encrypted.subarray(0, headerLen + 16 + 2 * (CHUNK_SIZE + 16));
    const corrupted = Buffer.from(encrypted);
    corrupted[headerLen + 16 + CHUNK_SIZE + 40] = (corrupted[headerLen + 16 + CHUNK_SIZE + 40] as number) ^ 0x80;
    for (const [name, bytes] of [['truncated', truncated], ['corrupted', corrupted]] as const) {
      const file = join(dir, `${name}.age`);
      await writeFile(file, bytes);
      await assert.rejects(run(AGE as string, ['-d', '-i', keys[0]!.file, '-o', join(dir, `${name}.out`), file]), `age accepted a ${name} file`);
    }
    // And with the other key the CLI refuses too (no matching identity).
    const file = join(dir, 'whole.age');
    await writeFile(file, encrypted);
    await assert.rejects(run(AGE as string, ['-d', '-i', keys[1]!.file, '-o', join(dir, 'whole.out'), file]));
  });

  it('we refuse age CLI output that is truncated, corrupted, or for another key', async () => {
    const input = join(dir, 'plain-big');
    const file = join(dir, 'theirs-big.age');
    await writeFile(input, randomBytes(2 * CHUNK_SIZE + 10));
    await run(AGE as string, ['-r', keys[0]!.recipient, '-o', file, input]);
    const encrypted = await readFile(file);
    const corrupted = Buffer.from(encrypted);
    corrupted[corrupted.length - 20] = (corrupted[corrupted.length - 20] as number) ^ 1;
    const isFailure = (e: unknown): boolean => isOperatorError(e) && e.reason === 'DecryptionFailed';
    await assert.rejects(decryptBuffer(encrypted.subarray(0, encrypted.length - 1), [keys[0]!.identity]), isFailure);
    await assert.rejects(decryptBuffer(corrupted, [keys[0]!.identity]), isFailure);
    await assert.rejects(decryptBuffer(encrypted, [keys[1]!.identity]), isFailure);
  });
});
