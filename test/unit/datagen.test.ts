// Unit tests of the data generator's pure parts: the seeded PRNG, COPY text encoding, the ward list
// (and that migration 005 loads the same 150 wards), the app vocabulary, and the seed CLI's argument
// handling (no database: usage errors are caught before connecting).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import {
  APP_EMOTIONS, GHMC_WARDS, PARTY_WEIGHTS, Prng, WeightedPicker, copyField, copyLine, emotionPolarity, findWard, knownDataset,
  vectorLiteral, wardKey,
} from '../../src/engines/datagen/index.ts';
import { runSeedCli } from '../../src/cli/seed.ts';

describe('Prng', () => {
  test('is deterministic for a seed and differs between seeds', () => {
    const a = new Prng(42), b = new Prng(42), c = new Prng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(Array.from({ length: 5 }, () => b.next()), xs);
    assert.notDeepEqual(Array.from({ length: 5 }, () => c.next()), xs);
    for (const x of xs) assert.ok(x >= 0 && x < 1);
    assert.equal(new Prng('42').next(), new Prng(42).next(), 'numbers and strings seed alike');
  });

  test('forks are independent streams, stable whatever the parent drew', () => {
    const p = new Prng('s');
    const f1 = p.fork('post').next();
    p.next();
    p.next();
    assert.equal(p.fork('post').next(), f1);
    assert.notEqual(p.fork('author').next(), f1);
  });

  test('int, pick, gaussian and weighted picks have the right ranges and rough frequencies', () => {
    const r = new Prng(7);
    let sum = 0, sq = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const k = r.int(3, 5);
      assert.ok(k >= 3 && k <= 5 && Number.isInteger(k));
      const g = r.gaussian();
      sum += g;
      sq += g * g;
    }
    assert.ok(Math.abs(sum / n) < 0.05);
    assert.ok(Math.abs(sq / n - 1) < 0.05);
    const picker = new WeightedPicker([['a', 1], ['b', 3]] as const);
    let b = 0;
    for (let i = 0; i < n; i++) if (picker.pick(r) === 'b') b++;
    assert.ok(Math.abs(b / n - 0.75) < 0.02, `b share ${b / n}`);
    assert.throws(() => new WeightedPicker([]), /at least one/);
  });
});

describe('COPY text encoding', () => {
  test('escapes backslash, tab, newline and carriage return; NULL is \\N', () => {
    assert.equal(copyField(null), '\\N');
    assert.equal(copyField(undefined), '\\N');
    assert.equal(copyField('a\tb\nc\\d\re'), 'a\\tb\\nc\\\\d\\re');
    assert.equal(copyField('plain, "quoted" ok'), 'plain, "quoted" ok');
    assert.equal(copyField(true), 't');
    assert.equal(copyField(false), 'f');
    assert.equal(copyField(1.5), '1.5');
    assert.equal(copyField(new Date('2026-01-02T03:04:05.000Z')), '2026-01-02T03:04:05.000Z');
    assert.equal(copyField({ k: 'v\\' }), '{"k":"v\\\\\\\\"}');
    assert.throws(() => copyField(Number.NaN), /cannot COPY/);
    assert.equal(copyLine(['x', null, 2]), 'x\t\\N\t2\n');
  });

  test('vector literals are pgvector text with 4 decimals', () => {
    assert.equal(vectorLiteral([0.123456, -1, 0]), '[0.1235,-1,0]');
  });
});

describe('GHMC wards', () => {
  test('150 wards, numbered 1..150, with distinct names and keys', () => {
    assert.equal(GHMC_WARDS.length, 150);
    assert.deepEqual(GHMC_WARDS.map((w) => w.no), Array.from({ length: 150 }, (_, i) => i + 1));
    assert.equal(new Set(GHMC_WARDS.map((w) => wardKey(w.name))).size, 150);
    for (const name of ['Jubilee Hills', 'Begumpet', 'Khairatabad', 'Himayath Nagar', 'Gandhinagar', 'Kapra', 'Asif Nagar', 'Habsiguda', 'Malkajgiri']) {
      assert.ok(findWard(name), name);
    }
  });

  test('findWard resolves numbers, GeoJSON feature names and other spellings', () => {
    assert.equal(findWard('91')?.name, 'Khairatabad');
    assert.equal(findWard('Ward 95 Jubilee Hills')?.name, 'Jubilee Hills');
    assert.equal(findWard('  jubilee   HILLS ')?.name, 'Jubilee Hills');
    assert.equal(findWard('Atlantis'), undefined);
    assert.equal(findWard('151'), undefined);
  });

  test('migration 005 loads exactly this list into the ward table', () => {
    const sql = readFileSync(new URL('../../migrations/005_electoral_optimization.up.sql', import.meta.url), 'utf8');
    const block = /INSERT INTO ward \(ward_no, name\) VALUES([\s\S]*?)ON CONFLICT/.exec(sql)?.[1] ?? '';
    const rows = [...block.matchAll(/\((\d+), '((?:[^']|'')*)'\)/g)].map((m) => ({ no: Number(m[1]), name: m[2]!.replace(/''/g, "'") }));
    assert.deepEqual(rows, GHMC_WARDS.map((w) => ({ no: w.no, name: w.name })));
  });
});

describe('vocabulary', () => {
  test('every emotion the app writes is in the vocabulary; only Unknown/Error have no polarity', () => {
    for (const [emotion] of APP_EMOTIONS) {
      const p = emotionPolarity(emotion);
      if (emotion === 'Unknown' || emotion === 'Error') assert.equal(p, null, emotion);
      else assert.notEqual(p, null, emotion);
    }
    assert.equal(emotionPolarity(' HOPEFUL '), 1);
    assert.equal(emotionPolarity(null), null);
    assert.ok(PARTY_WEIGHTS.some(([p]) => p === null), 'some posts name no party');
  });

  test('the known data set is the one the integration tests work out by hand', () => {
    const k = knownDataset();
    assert.equal(k.posts.filter((p) => p.city === 'Jubilee Hills').length, 16);
    assert.equal(new Set(k.posts.map((p) => p.ref)).size, k.posts.length);
    assert.deepEqual(k.wardProfiles.map((w) => w.wardId), ['95', 'Khairatabad']);
    // No post sits on a window boundary (7 or 30 days, or a 3-day window) where clock drift would matter.
    for (const p of k.posts) for (const edge of [72, 168, 720]) assert.ok(Math.abs(p.hoursAgo - edge) >= 2, `post ${p.ref}`);
  });
});

describe('runSeedCli arguments', () => {
  const io = () => {
    const stdout = new PassThrough(), stderr = new PassThrough();
    const out = { text: '', err: '' };
    stdout.on('data', (d: Buffer) => (out.text += d.toString()));
    stderr.on('data', (d: Buffer) => (out.err += d.toString()));
    return { io: { stdout, stderr, env: {} }, out };
  };

  test('--help prints the usage and exits 0', async () => {
    const { io: cli, out } = io();
    assert.equal(await runSeedCli(['--help'], cli), 0);
    assert.match(out.text, /usage: lokdarpan seed/);
  });

  test('bad values are usage errors (exit 2) before any connection', async () => {
    for (const args of [['--posts', 'many'], ['--years', '0'], ['--now', 'yesterday'], ['--bogus']]) {
      const { io: cli, out } = io();
      assert.equal(await runSeedCli(args, cli), 2, args.join(' '));
      assert.match(out.err, /seed: /);
    }
  });
});
