-- PostgreSQL twin of ../sqlite/0028_bucket_logging.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- S3 server access logging: where a bucket's access log goes (target bucket, prefix, key
-- format and grants), kept as JSON on the bucket row so a request reads it from the bucket
-- cache.
ALTER TABLE buckets ADD COLUMN logging TEXT;
