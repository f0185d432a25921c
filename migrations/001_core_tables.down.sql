-- Drops what 001_core_tables created (dependants first).
DROP TABLE IF EXISTS alert;
DROP TABLE IF EXISTS post;
DROP TABLE IF EXISTS epaper;
DROP TABLE IF EXISTS author;
DROP TABLE IF EXISTS "user";
