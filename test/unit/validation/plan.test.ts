// The validation's reading of EXPLAIN (FORMAT JSON) plans and its failure messages (pure functions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFailures, describeScans, indexScans, type ProbeResult } from '../../../src/engines/validation/validate.ts';

// Shapes as PostgreSQL 15/18 print them for the vector probe.
const seqScanPlan = [{ Plan: { 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Sort', Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'ai_embedding_store', Alias: 'ai_embedding_store' }] }] } }];
const indexPlan = [{ Plan: { 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Index Scan', 'Index Name': 'ix_ai_embedding_hnsw', 'Relation Name': 'ai_embedding_store' }] } }];
const bitmapPlan = [{ Plan: { 'Node Type': 'Bitmap Heap Scan', 'Relation Name': 'post', Plans: [{ 'Node Type': 'Bitmap Index Scan', 'Index Name': 'ix_post_search_vector' }] } }];

test('indexScans names the indexes of index, index-only and bitmap index scans', () => {
  assert.deepEqual(indexScans(seqScanPlan), []);
  assert.deepEqual(indexScans(indexPlan), ['ix_ai_embedding_hnsw']);
  assert.deepEqual(indexScans(bitmapPlan), ['ix_post_search_vector']);
});

test('describeScans says how the plan reads the table', () => {
  assert.equal(describeScans(seqScanPlan, 'ai_embedding_store'), 'Seq Scan on ai_embedding_store');
  assert.equal(describeScans(indexPlan, 'ai_embedding_store'), 'Index Scan using ix_ai_embedding_hnsw on ai_embedding_store');
  const parallel = [{ Plan: { 'Node Type': 'Gather Merge', Plans: [{ 'Node Type': 'Parallel Seq Scan', 'Relation Name': 'ai_embedding_store' }] } }];
  assert.equal(describeScans(parallel, 'ai_embedding_store'), 'Parallel Seq Scan on ai_embedding_store');
  assert.equal(describeScans(bitmapPlan, 'ai_embedding_store'), 'Bitmap Heap Scan', 'no scan of the table: the top node');
});

test('describeFailures puts the plan reason in the message; a passing probe is not mentioned', () => {
  const base: ProbeResult = { query: 'wardQuery', p95Ms: 3, thresholdMs: 100, usesIndex: true, passed: true, samples: 10 };
  const planned: ProbeResult = {
    query: 'vectorSearch', p95Ms: 12.5, thresholdMs: 50, usesIndex: false, index: 'ix_ai_embedding_hnsw', passed: false, samples: 10,
    planReason: 'does not use ix_ai_embedding_hnsw: Seq Scan on ai_embedding_store',
  };
  assert.equal(describeFailures([base, planned]), 'vectorSearch does not use ix_ai_embedding_hnsw: Seq Scan on ai_embedding_store (p95 12.5 ms, threshold 50 ms)');
  assert.equal(describeFailures([{ ...planned, p95Ms: 80 }]),
    'vectorSearch p95 80 ms > 50 ms (does not use ix_ai_embedding_hnsw: Seq Scan on ai_embedding_store)');
  const setting = 'hnsw.ef_search is 40, below 300 (migration 008 sets it for the database)';
  assert.equal(describeFailures([{ ...planned, settingReason: setting }]),
    `vectorSearch does not use ix_ai_embedding_hnsw: Seq Scan on ai_embedding_store; ${setting} (p95 12.5 ms, threshold 50 ms)`);
  const { planReason: _, ...indexed } = planned;
  assert.equal(describeFailures([{ ...indexed, usesIndex: true, settingReason: setting }]), `vectorSearch ${setting} (p95 12.5 ms, threshold 50 ms)`);
  assert.equal(describeFailures([{ ...indexed, usesIndex: true, p95Ms: 80, settingReason: setting }]), `vectorSearch p95 80 ms > 50 ms (${setting})`);
  const missing: ProbeResult = { query: 'wardQuery', p95Ms: 3, thresholdMs: 100, usesIndex: false, missingIndex: 'ix_post_city_created', passed: false, samples: 10 };
  assert.equal(describeFailures([missing]), 'wardQuery cannot use ix_post_city_created (p95 3 ms, threshold 100 ms)');
});
