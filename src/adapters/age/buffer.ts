// Whole-buffer helpers over the streams (small inputs: tests, keys, manifests).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AgeDecryptStream, AgeEncryptStream } from './stream.ts';
import type { AgeIdentity, AgeRecipient } from './keys.ts';

async function run(input: Buffer, transform: AgeEncryptStream | AgeDecryptStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from([input]), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) parts.push(chunk);
  });
  return Buffer.concat(parts);
}

export function encryptBuffer(plain: Buffer, recipients: ReadonlyArray<string | AgeRecipient>): Promise<Buffer> {
  return run(plain, new AgeEncryptStream(recipients));
}

export function decryptBuffer(encrypted: Buffer, identities: ReadonlyArray<string | AgeIdentity>): Promise<Buffer> {
  return run(encrypted, new AgeDecryptStream(identities));
}
