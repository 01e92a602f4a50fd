-- PostgreSQL twin of ../sqlite/0024_cors.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- S3 CORS: a bucket's rules, validated and kept as JSON (the store's own model of them), on the
-- bucket row, so a preflight and every cross-origin answer read them from the bucket cache.
ALTER TABLE buckets ADD COLUMN cors TEXT;
