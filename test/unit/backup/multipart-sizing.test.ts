// Part sizes follow the object: an estimate sets the first size, and a short estimate is caught up on
// the fly, so no object below S3's 5 TiB limit needs more than 10,000 parts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PART_SIZE, initialPartSize, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, nextPartSize } from '../../../src/adapters/s3/multipart.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

/** Parts an upload of `total` bytes takes, with the sizing the uploader uses. */
function simulate(total: number, expected: number | undefined, maxParts = MAX_PARTS, minimum = DEFAULT_PART_SIZE): { parts: number; largest: number } {
  let size = initialPartSize(expected, maxParts, minimum);
  let uploaded = 0;
  let parts = 0;
  let largest = 0;
  while (uploaded < total) {
    const part = Math.min(size, total - uploaded);
    assert.ok(part >= MIN_PART_SIZE || uploaded + part === total, 'only the last part may be below 5 MiB');
    assert.ok(part <= MAX_PART_SIZE);
    uploaded += part;
    parts++;
    largest = Math.max(largest, part);
    size = nextPartSize(size, uploaded, parts, maxParts);
  }
  return { parts, largest };
}

describe('multipart part sizing', () => {
  it('an accurate estimate uses at most 80 % of the budget, from 1 GiB to 5 TiB', () => {
    for (const total of [1 * GiB, 156 * GiB, 157 * GiB, 1 * TiB, 5 * TiB]) {
      const { parts } = simulate(total, total);
      assert.ok(parts <= 0.8 * MAX_PARTS, `${total / GiB} GiB took ${parts} parts`);
    }
  });

  it('no estimate, or one far too small, still fits 5 TiB in 10,000 parts', () => {
    for (const expected of [undefined, 0, 1 * GiB, 100 * GiB]) {
      const { parts, largest } = simulate(5 * TiB, expected);
      assert.ok(parts <= MAX_PARTS, `estimate ${expected}: ${parts} parts`);
      assert.ok(largest <= MAX_PART_SIZE);
    }
    assert.ok(simulate(5 * TiB, undefined, MAX_PARTS, MIN_PART_SIZE).parts <= MAX_PARTS, 'from the 5 MiB minimum too');
  });

  it('the old fixed 16 MiB part size would not have fitted 157 GiB (the bug this prevents)', () => {
    assert.ok(Math.ceil((157 * GiB) / (16 * MiB)) > MAX_PARTS);
  });

  it('a tiny forced budget grows the parts: 4 parts carry 40 MiB from a 5 MiB start', () => {
    const { parts } = simulate(40 * MiB, 5 * MiB, 4, MIN_PART_SIZE);
    assert.ok(parts <= 4, `${parts} parts`);
  });

  it('the first part size honours the minimum and S3 limits', () => {
    assert.equal(initialPartSize(undefined), DEFAULT_PART_SIZE);
    assert.equal(initialPartSize(10 * MiB, MAX_PARTS, MIN_PART_SIZE), MIN_PART_SIZE);
    assert.equal(initialPartSize(5 * TiB), Math.ceil((5 * TiB) / 8000 / MiB) * MiB);
    assert.equal(initialPartSize(1000 * TiB), MAX_PART_SIZE);
  });
});
