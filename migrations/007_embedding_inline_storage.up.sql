-- 007_embedding_inline_storage: top-k similarity search uses the HNSW index with default settings.
-- pgvector's halfvec has STORAGE external, so a 6 KB halfvec(3072) lives in TOAST and the heap of
-- ai_embedding_store is ~400 bytes a row. The planner costs a sequential scan by heap pages (TOAST is
-- not counted): from ~10k to several 10k rows a seq scan over the small heap looks cheaper than the
-- HNSW scan, and `ORDER BY embedding <=> $1 LIMIT 10` reads every vector out of TOAST instead
-- (111 ms p50 at 20k rows vs ~3 ms through the index). Kept in the row, the vectors make the heap as
-- big as it really is to read, and the index wins from ~2000 rows on (docs/schema.md has the figures):
--  * STORAGE PLAIN for `embedding` (a halfvec(3072) is 6152 bytes and always fits a page; the other
--    wide columns still go to TOAST). ACCESS EXCLUSIVE for a catalog change, bounded by lock_timeout;
--    it applies to rows written from now on;
--  * existing rows rewritten in batches of 100 ids, each committed on its own: every rewritten row
--    is also inserted into the HNSW index (milliseconds a row), so the index serves searches
--    throughout, and a concurrent update of a row waits for one small batch at most. On PostgreSQL
--    17+ rows already inline are skipped (pg_column_toast_chunk_id), so a rerun resumes; on 15/16 a
--    rerun rewrites every row again (correct, only slower);
--  * VACUUM (ANALYZE): removes the old row versions from the HNSW graph (they would crowd the
--    candidate list and lower recall) and gives the planner the new heap size at once.
-- lokdarpan:statement-timeout 24h

-- lokdarpan:step transaction
ALTER TABLE ai_embedding_store ALTER COLUMN embedding SET STORAGE PLAIN;

-- lokdarpan:step no-transaction
-- `embedding::vector::halfvec` is the same value as a new, detoasted datum: assigning the column to
-- itself would keep the TOAST pointer.
DO $$
DECLARE
  v_lo     bigint;
  v_max    bigint;
  v_batch  constant bigint := 100;
  v_toast  text := CASE WHEN current_setting('server_version_num')::integer >= 170000
                        THEN ' AND pg_column_toast_chunk_id(embedding) IS NOT NULL' ELSE '' END;
BEGIN
  SELECT min(id), max(id) INTO v_lo, v_max FROM ai_embedding_store;
  WHILE v_lo <= v_max LOOP
    EXECUTE 'UPDATE ai_embedding_store SET embedding = embedding::vector::halfvec
              WHERE id >= $1 AND id < $2 AND embedding IS NOT NULL' || v_toast
      USING v_lo, v_lo + v_batch;
    COMMIT;
    v_lo := v_lo + v_batch;
  END LOOP;
END
$$;

-- lokdarpan:step no-transaction
VACUUM (ANALYZE) ai_embedding_store;
