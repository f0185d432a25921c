-- Undoes 005_electoral_optimization: functions, views, constraints, the post indexes (dropped
-- CONCURRENTLY, so a live post table is not locked), the vocabulary functions and the ward table.
-- Every step is idempotent (IF EXISTS).

-- lokdarpan:step transaction
DROP FUNCTION IF EXISTS refresh_ward_analytics();
DROP FUNCTION IF EXISTS search_posts(text, text, integer, integer);
DROP FUNCTION IF EXISTS get_ward_sentiment_timeline(text, integer);
DROP FUNCTION IF EXISTS get_ward_competitive_analysis(text, integer);
DROP MATERIALIZED VIEW IF EXISTS daily_ward_trends;
DROP MATERIALIZED VIEW IF EXISTS ward_analytics_summary;
ALTER TABLE post DROP CONSTRAINT IF EXISTS chk_post_emotion;
ALTER TABLE post DROP CONSTRAINT IF EXISTS chk_post_party;
ALTER TABLE ward_profile DROP CONSTRAINT IF EXISTS chk_ward_turnout;
ALTER TABLE result_ward_agg DROP CONSTRAINT IF EXISTS chk_result_ward_agg_pct;

-- lokdarpan:step no-transaction
DROP INDEX CONCURRENTLY IF EXISTS ix_post_search_vector;

-- lokdarpan:step no-transaction
DROP INDEX CONCURRENTLY IF EXISTS ix_post_author_city;

-- lokdarpan:step no-transaction
DROP INDEX CONCURRENTLY IF EXISTS ix_post_city_created;

-- lokdarpan:step transaction
DROP FUNCTION IF EXISTS post_search_document(text, text, text, text);
DROP FUNCTION IF EXISTS lokdarpan_party(text);
DROP FUNCTION IF EXISTS lokdarpan_emotion_polarity(text);
DROP FUNCTION IF EXISTS lokdarpan_emotion(text);
DROP FUNCTION IF EXISTS lokdarpan_ward_name(text);
DROP TABLE IF EXISTS ward;
DROP FUNCTION IF EXISTS lokdarpan_ward_key(text);
