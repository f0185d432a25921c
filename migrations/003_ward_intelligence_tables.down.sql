-- Drops what 003_ward_intelligence_tables created.
DROP TABLE IF EXISTS summary;
DROP TABLE IF EXISTS issue_cluster;
DROP TABLE IF EXISTS leader_mention;
DROP TABLE IF EXISTS leader;
