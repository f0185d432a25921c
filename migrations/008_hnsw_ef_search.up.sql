-- 008_hnsw_ef_search: top-10 similarity search finds the true neighbours with the settings the app's
-- own connections get. pgvector's HNSW scan keeps a candidate list of `hnsw.ef_search` entries
-- (default 40); over 100 000 clustered halfvec(3072) embeddings that returned 0.7-0.8 of the exact top
-- 10 (bench/RESULTS.md). This migration makes 300 the database's default, so every new session of every
-- role gets it (recall@10 0.909-0.966 at 100 000 rows depending on the index build, still milliseconds
-- on a quiet machine; docs/schema.md, 008):
--  * `ALTER DATABASE <this database> SET hnsw.ef_search = 300`: a catalog row in pg_db_role_setting,
--    no lock on any table; sessions opened from then on get it (pooled connections on their next
--    connect). Only the database's owner (or a superuser) may do this;
--  * when the migration's role does not own the database, the setting is made for that role in this
--    database instead (`ALTER ROLE current_user IN DATABASE ... SET`), and a WARNING says that other
--    roles (an app connecting as another role) keep pgvector's default until the owner runs the
--    ALTER DATABASE above.
-- The setting is not part of a plain pg_dump (only `pg_dump --create` / pg_dumpall carry it): a database
-- restored from a dump into a new database must get it again (docs/schema.md; the performance
-- validation reports a connection whose ef_search is below 300).
-- The placeholder `hnsw.ef_search` is only known once pgvector's library is loaded in the session;
-- before that, a non-superuser may not set it ("permission denied to set parameter"), hence the cast.

-- lokdarpan:step transaction
DO $$
DECLARE
  v_ef     constant integer := 300;
  v_db     constant text := current_database();
  v_owner  oid;
BEGIN
  PERFORM '[1]'::vector;
  SELECT datdba INTO v_owner FROM pg_database WHERE datname = v_db;
  IF pg_has_role(current_user, v_owner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('ALTER DATABASE %I SET hnsw.ef_search = %s', v_db, v_ef);
  ELSE
    EXECUTE format('ALTER ROLE %I IN DATABASE %I SET hnsw.ef_search = %s', current_user, v_db, v_ef);
    RAISE WARNING 'hnsw.ef_search = % is set for role % in database % only: the role does not own the database, so other roles keep pgvector''s default (40, lower recall). The owner should run: ALTER DATABASE % SET hnsw.ef_search = %',
      v_ef, current_user, v_db, quote_ident(v_db), v_ef;
  END IF;
END
$$;
