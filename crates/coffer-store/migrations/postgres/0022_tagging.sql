-- PostgreSQL twin of ../sqlite/0022_tagging.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- S3 tagging: a version's tags, an upload's (its object's to be) and a bucket's, each as a JSON
-- list of [key, value] pairs in the order given (NULL: none). Kept on the row itself, so a GET
-- that reports x-amz-tagging-count and a lifecycle pass that filters on tags read nothing more.
ALTER TABLE objects ADD COLUMN tags TEXT;
ALTER TABLE multipart_uploads ADD COLUMN tags TEXT;
ALTER TABLE buckets ADD COLUMN tags TEXT;
