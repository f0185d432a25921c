// age v1 encryption on node:crypto: keys, header, and streaming encrypt/decrypt.
export { AgeReasons } from './reasons.ts';
export {
  encodeRecipient, generateIdentity, parseIdentity, parseIdentityFile, parseRecipient, recipientFingerprint,
  type AgeIdentity, type AgeRecipient, type GeneratedIdentity,
} from './keys.ts';
export { AgeDecryptStream, AgeEncryptStream, CHUNK_SIZE, createAgeDecryptStream, createAgeEncryptStream, payloadSize } from './stream.ts';
export { encryptBuffer, decryptBuffer } from './buffer.ts';
