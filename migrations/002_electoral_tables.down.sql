-- Drops what 002_electoral_tables created.
DROP TABLE IF EXISTS ward_features;
DROP TABLE IF EXISTS ward_demographics;
DROP TABLE IF EXISTS ward_profile;
DROP TABLE IF EXISTS result_ward_agg;
DROP TABLE IF EXISTS result_ps;
DROP TABLE IF EXISTS polling_station;
DROP TABLE IF EXISTS election;
