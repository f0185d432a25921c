// Archive encoding and layout: NDJSON -> zstd -> age that decrypts back; keys sort by primary key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { zstdDecompressSync } from 'node:zlib';
import { decryptBuffer, generateIdentity } from '../../../src/adapters/age/index.ts';
import { ageEncryptor, archiveKeys, encodeArchive, keyPart, MemoryArchiveSink } from '../../../src/engines/retention/archive.ts';
import type { ResolvedRule } from '../../../src/engines/retention/catalog.ts';

describe('retention archive', () => {
  it('encodes documents as age-encrypted zstd NDJSON', async () => {
    const id = generateIdentity();
    const docs = ['{"id": 1, "a": "x"}', '{"id": 2, "a": "ü\\n"}'];
    const body = await encodeArchive(docs, ageEncryptor([id.recipient]));
    assert.equal(body.subarray(0, 21).toString(), 'age-encryption.org/v1');
    const plain = zstdDecompressSync(await decryptBuffer(body, [id.identity])).toString('utf8');
    assert.equal(plain, `${docs.join('\n')}\n`);
  });

  it('needs a recipient', () => {
    assert.throws(() => ageEncryptor([]), /at least one age recipient/);
  });

  it('derives keys from the primary-key range, zero-padded so they sort', () => {
    const r = { rule: { name: 'reports-delete-3y' }, table: { schema: 'public', table: 'ai_geopolitical_report' } } as unknown as ResolvedRule;
    const keys = archiveKeys('retention/', r, '7', '1234');
    assert.equal(keys.data, 'retention/public.ai_geopolitical_report/reports-delete-3y/00000000000000000007-00000000000000001234.ndjson.zst.age');
    assert.equal(keys.manifest, 'retention/public.ai_geopolitical_report/reports-delete-3y/00000000000000000007-00000000000000001234.manifest.json');
    assert.equal(keys.pending, 'retention/public.ai_geopolitical_report/reports-delete-3y/_pending/00000000000000000007-00000000000000001234.json');
    assert.ok(keyPart('9') < keyPart('10'));
    assert.match(keyPart('a/b c'), /^h[0-9a-f]{24}$/);
  });

  it('memory sink round-trips, verifies and lists', async () => {
    const sink = new MemoryArchiveSink();
    const { sha256, size } = await sink.put('p/a', Buffer.from('hello'));
    assert.equal(size, 5);
    assert.equal(await sink.verify('p/a', sha256), true);
    assert.equal(await sink.verify('p/a', '0'.repeat(64)), false);
    assert.deepEqual(await sink.list('p/'), ['p/a']);
    await sink.delete('p/a');
    assert.equal(await sink.get('p/a'), undefined);
  });
});
