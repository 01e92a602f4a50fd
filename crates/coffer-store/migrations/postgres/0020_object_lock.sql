-- PostgreSQL twin of ../sqlite/0020_object_lock.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- S3 Object Lock. A bucket either has it (for good, with versioning Enabled for good) or not,
-- and may set a default retention that each new version takes: a mode and Days or Years.
ALTER TABLE buckets ADD COLUMN object_lock_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE buckets ADD COLUMN lock_default_mode TEXT;
ALTER TABLE buckets ADD COLUMN lock_default_days BIGINT;
ALTER TABLE buckets ADD COLUMN lock_default_years BIGINT;

-- A version's retention (GOVERNANCE or COMPLIANCE, until a time in milliseconds) and legal
-- hold; an upload in progress keeps the ones its object will have.
ALTER TABLE objects ADD COLUMN lock_mode TEXT;
ALTER TABLE objects ADD COLUMN lock_until BIGINT;
ALTER TABLE objects ADD COLUMN legal_hold BIGINT NOT NULL DEFAULT 0;
ALTER TABLE multipart_uploads ADD COLUMN lock_mode TEXT;
ALTER TABLE multipart_uploads ADD COLUMN lock_until BIGINT;
ALTER TABLE multipart_uploads ADD COLUMN legal_hold BIGINT NOT NULL DEFAULT 0;
