-- Undoes 007_embedding_inline_storage: `embedding` goes back to its type's storage (external, as 004
-- created it). Rows written from now on are TOASTed again; rows already inline stay so until they
-- are next updated (same values, only their place differs), so the down is a catalog change only.

ALTER TABLE ai_embedding_store ALTER COLUMN embedding SET STORAGE EXTERNAL;
