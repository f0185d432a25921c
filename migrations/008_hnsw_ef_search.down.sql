-- Undoes 008_hnsw_ef_search: new sessions get pgvector's default hnsw.ef_search (40) again. Both places
-- 008 may have used are reset (a reset of a setting that is not there is a no-op); a role that may not
-- alter the database resets its own setting only.

-- lokdarpan:step transaction
DO $$
DECLARE
  v_db constant text := current_database();
BEGIN
  PERFORM '[1]'::vector;
  IF pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = v_db), 'USAGE')
     OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('ALTER DATABASE %I RESET hnsw.ef_search', v_db);
  END IF;
  EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET hnsw.ef_search', current_user, v_db);
END
$$;
