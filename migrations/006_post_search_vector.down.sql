-- Undoes 006_post_search_vector: back to 005's expression index and search_posts(). The expression
-- index is built CONCURRENTLY first, so full-text search keeps an index; then, in one short transaction,
-- search_posts() returns to 005's definition, the trigger, its function and the column go (the column's
-- GIN index with it: ACCESS EXCLUSIVE on post for a catalog change, bounded by lock_timeout) and the
-- expression index takes its 005 name. Both steps are idempotent.

-- lokdarpan:step no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_post_search_document ON post
  USING gin (post_search_document(text, city, emotion, party));

-- lokdarpan:step transaction
-- 005's definition, unchanged.
CREATE OR REPLACE FUNCTION search_posts(p_query text, p_ward text DEFAULT NULL, p_limit integer DEFAULT 20,
                                        p_candidates integer DEFAULT 1000)
RETURNS TABLE (id integer, ward_name varchar, text text, created_at timestamptz, rank real)
LANGUAGE sql STABLE
AS $$
  WITH q AS (SELECT websearch_to_tsquery('simple'::regconfig, p_query) AS query),
  candidates AS (
    SELECT p.id
    FROM post p, q
    WHERE post_search_document(p.text, p.city, p.emotion, p.party) @@ q.query
      AND (p_ward IS NULL OR p.city = lokdarpan_ward_name(p_ward))
    ORDER BY p.id DESC
    LIMIT p_candidates
  )
  SELECT p.id, p.city, p.text, p.created_at,
         ts_rank(post_search_document(p.text, p.city, p.emotion, p.party), q.query) AS rank
  FROM candidates c JOIN post p ON p.id = c.id, q
  ORDER BY rank DESC, p.id DESC
  LIMIT p_limit
$$;

DROP TRIGGER IF EXISTS update_post_search_vector_trigger ON post;
DROP FUNCTION IF EXISTS update_post_search_vector();
ALTER TABLE post DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS post_search_vector_of(text, text, text, text);

DO $$
BEGIN
  IF to_regclass('ix_post_search_vector') IS NULL AND to_regclass('ix_post_search_document') IS NOT NULL THEN
    ALTER INDEX ix_post_search_document RENAME TO ix_post_search_vector;
  END IF;
END
$$;
