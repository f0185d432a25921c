// The keys check: recipients must parse, and the drill identity must belong to one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity } from '../../../src/adapters/age/index.ts';
import { checkKeys } from '../../../src/engines/preflight/keys.ts';
import { isOperatorError } from '../../../src/errors.ts';

test('matching identity passes; a foreign one is DrillIdentityMismatch without the key in the message', () => {
  const mine = generateIdentity();
  const other = generateIdentity();
  checkKeys([other.recipient, mine.recipient], { identity: mine.identity, label: 'Secret drill key identity' });
  assert.throws(
    () => checkKeys([other.recipient], { identity: mine.identity, label: 'Secret drill key identity' }),
    (e) => isOperatorError(e) && e.reason === 'DrillIdentityMismatch' && e.message.includes('Secret drill key identity') && !e.message.includes(mine.identity),
  );
});

test('a malformed recipient or identity is InvalidKey', () => {
  const mine = generateIdentity();
  const broken = `${mine.recipient.slice(0, -1)}${mine.recipient.endsWith('q') ? 'p' : 'q'}`;
  assert.throws(() => checkKeys([broken]), (e) => isOperatorError(e) && e.reason === 'InvalidKey' && /recipient 1/.test(e.message));
  assert.throws(
    () => checkKeys([mine.recipient], { identity: 'AGE-SECRET-KEY-1NOTAKEY', label: 'Secret x key identity' }),
    (e) => isOperatorError(e) && e.reason === 'InvalidKey' && !e.message.includes('NOTAKEY'),
  );
});
