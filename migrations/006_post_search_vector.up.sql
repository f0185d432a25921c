-- 006_post_search_vector: the stored full-text column the LokDarpan app queries.
-- The app and its scripts run `ts_rank(search_vector, plainto_tsquery(:term))` and
-- `search_vector @@ plainto_tsquery(:term)` (the original's 005, docs/schema.md). 005 here had replaced
-- the column with an expression index, so those statements failed. This migration gives `post` the
-- column back, with the original's semantics, on a live table:
--  * `search_vector tsvector`, set by the trigger `update_post_search_vector_trigger` (BEFORE INSERT OR
--    UPDATE OF the four source columns) to text weight A, city B, emotion C, party B, NULLs as '',
--    configuration 'english': the app parses its terms with plainto_tsquery(term), i.e. with the
--    session's default_text_search_config ('pg_catalog.english'), and a document built with another
--    configuration does not match stemmed terms ('elections' -> 'elect'). Telugu and Devanagari words
--    come out of 'english' exactly as out of 'simple' (evidence in docs/schema.md);
--  * existing rows backfilled in batches of 2000 ids, each committed on its own (row locks for a
--    fraction of a second; inserts are never blocked); legacy rows outside 005's vocabulary, which
--    no UPDATE may write, are kept as they are and reported;
--  * the GIN index `ix_post_search_vector` on the column, built CONCURRENTLY. 005's expression index of
--    that name is renamed out of the way first and dropped CONCURRENTLY once search_posts() uses the
--    column, so full-text search always has an index;
--  * search_posts() reads the stored column (same signature and ranking rules, 'english').
-- Locks: step 1 takes ACCESS EXCLUSIVE on post for a catalog-only ADD COLUMN and SHARE ROW EXCLUSIVE
-- for the trigger, both bounded by the engine's lock_timeout; the other steps never block writers.
-- Every step is idempotent: a run killed between two steps re-runs from the first one.
-- lokdarpan:statement-timeout 120min

-- lokdarpan:step transaction
ALTER TABLE post ADD COLUMN IF NOT EXISTS search_vector tsvector;

-- The document of a post, as the original trigger built it (same order, weights and configuration).
CREATE OR REPLACE FUNCTION post_search_vector_of(p_text text, p_city text, p_emotion text, p_party text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(p_text, '')), 'A')
      || setweight(to_tsvector('english'::regconfig, coalesce(p_city, '')), 'B')
      || setweight(to_tsvector('english'::regconfig, coalesce(p_emotion, '')), 'C')
      || setweight(to_tsvector('english'::regconfig, coalesce(p_party, '')), 'B')
$$;

-- Same name as the original's trigger function, so an adopted database that has it gets this one.
CREATE OR REPLACE FUNCTION update_post_search_vector() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  NEW.search_vector := post_search_vector_of(NEW.text, NEW.city, NEW.emotion, NEW.party);
  RETURN NEW;
END
$$;

-- Only updates that name a source column recompute the vector (the original fired on every update).
DROP TRIGGER IF EXISTS update_post_search_vector_trigger ON post;
CREATE TRIGGER update_post_search_vector_trigger
  BEFORE INSERT OR UPDATE OF text, city, emotion, party ON post
  FOR EACH ROW EXECUTE FUNCTION update_post_search_vector();

-- lokdarpan:step no-transaction
-- Backfill: rows written before the trigger existed (the trigger's CREATE waited for every open
-- writer, so later rows have their vector). One batch of ids per transaction; a rerun skips done rows.
-- An UPDATE re-checks every CHECK constraint, NOT VALID ones included: a legacy row that 005 left
-- outside the emotion/party vocabulary (an adopted database) would fail its whole batch. Such a batch
-- is redone row by row; the violating rows are kept unchanged, without a vector, and a WARNING says
-- how many (fixing their values fills the vector through the trigger).
DO $$
DECLARE
  v_lo      bigint;
  v_max     bigint;
  v_batch   constant bigint := 2000;
  v_id      integer;
  v_skipped bigint := 0;
BEGIN
  SELECT min(id), max(id) INTO v_lo, v_max FROM post;
  WHILE v_lo <= v_max LOOP
    BEGIN
      UPDATE post SET search_vector = post_search_vector_of(text, city, emotion, party)
       WHERE id >= v_lo AND id < v_lo + v_batch AND search_vector IS NULL;
    EXCEPTION WHEN check_violation THEN
      FOR v_id IN SELECT id FROM post WHERE id >= v_lo AND id < v_lo + v_batch AND search_vector IS NULL LOOP
        BEGIN
          UPDATE post SET search_vector = post_search_vector_of(text, city, emotion, party) WHERE id = v_id;
        EXCEPTION WHEN check_violation THEN
          v_skipped := v_skipped + 1;
        END;
      END LOOP;
    END;
    COMMIT;
    v_lo := v_lo + v_batch;
  END LOOP;
  IF v_skipped > 0 THEN
    RAISE WARNING 'search_vector stays NULL for % post(s) whose emotion or party is outside the vocabulary (NOT VALID chk_post_emotion/chk_post_party): the rows are kept; fix them (SELECT id, emotion, party FROM post WHERE search_vector IS NULL) and the trigger fills their vector', v_skipped;
  END IF;
END
$$;

-- lokdarpan:step transaction
-- 005's expression index holds the name the app's index has; it keeps serving search_posts() under
-- another name until the column's index exists. (An adopted database may already have the original
-- column index under this name: then nothing is renamed and the build below is skipped.)
DO $$
DECLARE
  v_index regclass := to_regclass('ix_post_search_vector');
BEGIN
  IF v_index IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
     WHERE x.indexrelid = v_index AND a.attname = 'search_vector')
  THEN
    IF to_regclass('ix_post_search_document') IS NOT NULL THEN
      RAISE EXCEPTION 'both ix_post_search_vector (not on post.search_vector) and ix_post_search_document exist; drop the one that is not needed and re-run';
    END IF;
    ALTER INDEX ix_post_search_vector RENAME TO ix_post_search_document;
  END IF;
END
$$;

-- lokdarpan:step no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_post_search_vector ON post USING gin (search_vector);

-- lokdarpan:step transaction
-- Full-text search over posts (websearch syntax: "quoted phrases", -exclusions, OR), best first, on the
-- stored column. The best p_limit are chosen among the p_candidates most recent matches (default
-- 1000), so a very common term does not rank every match.
CREATE OR REPLACE FUNCTION search_posts(p_query text, p_ward text DEFAULT NULL, p_limit integer DEFAULT 20,
                                        p_candidates integer DEFAULT 1000)
RETURNS TABLE (id integer, ward_name varchar, text text, created_at timestamptz, rank real)
LANGUAGE sql STABLE
AS $$
  WITH q AS (SELECT websearch_to_tsquery('english'::regconfig, p_query) AS query),
  candidates AS (
    SELECT p.id
    FROM post p, q
    WHERE p.search_vector @@ q.query
      AND (p_ward IS NULL OR p.city = lokdarpan_ward_name(p_ward))
    ORDER BY p.id DESC
    LIMIT p_candidates
  )
  SELECT p.id, p.city, p.text, p.created_at, ts_rank(p.search_vector, q.query) AS rank
  FROM candidates c JOIN post p ON p.id = c.id, q
  ORDER BY rank DESC, p.id DESC
  LIMIT p_limit
$$;

-- lokdarpan:step no-transaction
DROP INDEX CONCURRENTLY IF EXISTS ix_post_search_document;
