import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextBatchSize } from '../../../src/engines/retention/engine.ts';

describe('nextBatchSize', () => {
  it('scales the size toward the target duration', () => {
    assert.equal(nextBatchSize(1000, 16, 20, 50_000), 1250);
    assert.equal(nextBatchSize(1000, 40, 20, 50_000), 500);
  });

  it('grows at most 2x and shrinks at most 4x per batch, within 1..maxSize', () => {
    assert.equal(nextBatchSize(1000, 1, 20, 50_000), 2000);
    assert.equal(nextBatchSize(1000, 2000, 20, 50_000), 250);
    assert.equal(nextBatchSize(40_000, 1, 20, 50_000), 50_000);
    assert.equal(nextBatchSize(1, 1000, 20, 50_000), 1);
  });

  it('keeps the size when adaptation is off or the clock did not move', () => {
    assert.equal(nextBatchSize(1000, 5, 0, 50_000), 1000);
    assert.equal(nextBatchSize(1000, 0, 20, 50_000), 1000);
  });
});
