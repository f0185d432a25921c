-- Drops what 004_ai_infrastructure created. The `vector` extension stays: other objects (and other
-- databases' expectations) may rely on it, and dropping it needs a superuser.
DROP FUNCTION IF EXISTS ai_cleanup_expired_data(timestamptz);
DROP FUNCTION IF EXISTS ai_find_similar_content(halfvec, text, integer, double precision);
DROP TABLE IF EXISTS ai_system_metrics;
DROP TABLE IF EXISTS ai_budget_tracker;
DROP TABLE IF EXISTS ai_geopolitical_report;
DROP TABLE IF EXISTS ai_model_execution;
DROP TABLE IF EXISTS ai_embedding_store;
