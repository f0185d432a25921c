-- Undoes 009_hnsw_dense_graph: ix_ai_embedding_hnsw is 004's graph again (m 16, ef_construction 64),
-- rebuilt the same way, without blocking reads or writes: built CONCURRENTLY under another name, the
-- dense index dropped CONCURRENTLY, the name taken over. Every step is idempotent.
-- lokdarpan:statement-timeout 24h

-- lokdarpan:step no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_ai_embedding_hnsw_004 ON ai_embedding_store
  USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);

-- lokdarpan:step no-transaction
DROP INDEX CONCURRENTLY IF EXISTS ix_ai_embedding_hnsw;

-- lokdarpan:step transaction
ALTER INDEX ix_ai_embedding_hnsw_004 RENAME TO ix_ai_embedding_hnsw;
