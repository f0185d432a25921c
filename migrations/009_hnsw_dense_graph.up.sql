-- 009_hnsw_dense_graph: top-10 similarity search reaches recall@10 0.95 with the settings the app's own
-- connections get. 004 built ix_ai_embedding_hnsw with m 16, ef_construction 64; over 100 000 clustered
-- halfvec(3072) embeddings that graph bounds recall below 0.95 whatever the candidate list (0.917-0.939
-- at 008's ef_search 300, 0.927-0.951 at 400; bench/RESULTS.md). A denser graph, m 24 and
-- ef_construction 128, reaches it at 008's 300 (docs/schema.md, 009, has the figures and the build cost).
-- The index cannot be altered in place (m and ef_construction shape the graph), so on a live table:
--  * the new index is built CONCURRENTLY under another name: reads and writes go on (the build waits
--    for transactions open at its start; minutes of the server's cores and memory for 100 000 rows, and
--    a second index's worth of disk until the old one is dropped). Give the migration's role
--    maintenance_work_mem above the index's size, or pgvector builds what does not fit on disk, much
--    slower (NOTICE "hnsw graph no longer fits into maintenance_work_mem");
--  * the old index is dropped CONCURRENTLY (it waits for queries using it; search has the new index);
--  * the new index takes the old name, which the validation and the docs refer to (a catalog change:
--    SHARE UPDATE EXCLUSIVE on the index, which blocks neither reads nor writes).
-- Every step is idempotent: a run killed after the build or the drop re-runs without building again.
-- lokdarpan:statement-timeout 24h

-- lokdarpan:step no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_ai_embedding_hnsw_dense ON ai_embedding_store
  USING hnsw (embedding halfvec_cosine_ops) WITH (m = 24, ef_construction = 128);

-- lokdarpan:step no-transaction
DROP INDEX CONCURRENTLY IF EXISTS ix_ai_embedding_hnsw;

-- lokdarpan:step transaction
ALTER INDEX ix_ai_embedding_hnsw_dense RENAME TO ix_ai_embedding_hnsw;
