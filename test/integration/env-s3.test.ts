// Smoke test of the S3 part of the test environment: two real SeaweedFS servers ("regions") with
// signature authentication enforced: multipart uploads, a streaming copy from one to the other,
// aborted uploads that leave nothing behind, refused bad credentials, and independent servers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startTwoRegions, type S3Server } from '../env/s3.ts';

const MiB = 1024 * 1024;
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

const is4xx = (error: unknown): boolean => {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500;
};

describe('S3 test environment (two SeaweedFS servers)', () => {
  let primary: S3Server;
  let secondary: S3Server;
  let a: S3Client;
  let b: S3Client;
  const data = randomBytes(11 * MiB);

  before(async () => {
    ({ primary, secondary } = await startTwoRegions());
    a = primary.client();
    b = secondary.client();
    await primary.createBucket('backups');
    await secondary.createBucket('backups-copy');
  });
  after(async () => {
    a?.destroy();
    b?.destroy();
    await Promise.all([primary?.stop(), secondary?.stop()]);
  });

  test('a lib-storage multipart upload in 5 MiB parts round-trips', async () => {
    const upload = new Upload({
      client: a,
      params: { Bucket: 'backups', Key: 'dumps/one.bin', Body: Readable.from([data]) },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const parts: number[] = [];
    upload.on('httpUploadProgress', (p) => {
      if (p.part !== undefined) parts.push(p.part);
    });
    await upload.done();
    assert.ok(new Set(parts).size >= 2, `expected >= 2 parts, saw ${JSON.stringify(parts)}`);
    const head = await a.send(new HeadObjectCommand({ Bucket: 'backups', Key: 'dumps/one.bin' }));
    assert.equal(head.ContentLength, data.length);
    assert.match(head.ETag ?? '', /-3"?$/); // a multipart ETag names its part count
    const got = await a.send(new GetObjectCommand({ Bucket: 'backups', Key: 'dumps/one.bin' }));
    assert.equal(sha256(await readAll(got.Body)), sha256(data));
  });

  test('an object streams from one server to the other', async () => {
    await a.send(new PutObjectCommand({ Bucket: 'backups', Key: 'dumps/two.bin', Body: data }));
    const source = await a.send(new GetObjectCommand({ Bucket: 'backups', Key: 'dumps/two.bin' }));
    const copy = new Upload({
      client: b,
      params: { Bucket: 'backups-copy', Key: 'dumps/two.bin', Body: source.Body as Readable },
      partSize: 5 * MiB,
    });
    await copy.done();
    const got = await b.send(new GetObjectCommand({ Bucket: 'backups-copy', Key: 'dumps/two.bin' }));
    assert.equal(sha256(await readAll(got.Body)), sha256(data));
  });

  test('an aborted multipart upload leaves no object and no pending upload', async () => {
    // Explicit abort after one part.
    const { UploadId } = await a.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: 'aborted/explicit' }));
    await a.send(
      new UploadPartCommand({ Bucket: 'backups', Key: 'aborted/explicit', UploadId, PartNumber: 1, Body: data.subarray(0, 5 * MiB) }),
    );
    await a.send(new AbortMultipartUploadCommand({ Bucket: 'backups', Key: 'aborted/explicit', UploadId }));

    // A source that fails half-way (like a pg_dump that dies): done() rejects and the upload is aborted.
    async function* failing(): AsyncGenerator<Buffer> {
      yield data.subarray(0, 6 * MiB);
      throw new Error('source failed');
    }
    const upload = new Upload({
      client: a,
      params: { Bucket: 'backups', Key: 'aborted/failing', Body: Readable.from(failing()) },
      partSize: 5 * MiB,
    });
    await assert.rejects(upload.done(), /source failed/);

    for (const Key of ['aborted/explicit', 'aborted/failing']) {
      await assert.rejects(a.send(new HeadObjectCommand({ Bucket: 'backups', Key })), (e) => statusOf(e) === 404);
    }
    const pending = await a.send(new ListMultipartUploadsCommand({ Bucket: 'backups', Prefix: 'aborted/' }));
    assert.deepEqual(pending.Uploads ?? [], []);
  });

  test('a wrong secret key, unknown credentials and anonymous requests are refused (4xx)', async () => {
    const wrong = primary.client({
      credentials: { accessKeyId: primary.accessKeyId, secretAccessKey: `${primary.secretAccessKey}x` },
      maxAttempts: 1,
    });
    const foreign = primary.client({
      credentials: { accessKeyId: secondary.accessKeyId, secretAccessKey: secondary.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(wrong.send(new ListBucketsCommand({})), is4xx);
      await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: 'backups', Key: 'dumps/one.bin' })), is4xx);
      await assert.rejects(foreign.send(new ListBucketsCommand({})), is4xx);
    } finally {
      wrong.destroy();
      foreign.destroy();
    }
    const anonymous = await fetch(`${primary.endpoint}/backups/dumps/one.bin`);
    assert.ok(anonymous.status >= 400 && anonymous.status < 500, `anonymous GET answered ${anonymous.status}`);
    await anonymous.body?.cancel();
  });

  test('the two servers are independent', async () => {
    assert.notEqual(primary.endpoint, secondary.endpoint);
    await a.send(new HeadBucketCommand({ Bucket: 'backups' }));
    await assert.rejects(b.send(new HeadBucketCommand({ Bucket: 'backups' })), (e) => statusOf(e) === 404);
    await assert.rejects(a.send(new HeadBucketCommand({ Bucket: 'backups-copy' })), (e) => statusOf(e) === 404);
    const names = (await b.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name) ?? [];
    assert.deepEqual(names, ['backups-copy']);
  });

  test('buckets can be created with versioning or Object Lock', async () => {
    await primary.createBucket('locked', { objectLock: true });
    await primary.createBucket('versioned', { versioning: true });
    const lock = await a.send(new GetObjectLockConfigurationCommand({ Bucket: 'locked' }));
    assert.equal(lock.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
    const versioning = await a.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }));
    assert.equal(versioning.Status, 'Enabled');
  });
});
