-- PostgreSQL twin of ../sqlite/0025_encryption.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Server-side encryption at rest. A version's (and an upload's, for its object) encryption:
-- `sse` is AES256 (SSE-S3) or SSE-C (NULL: stored in the clear); `sse_key` holds the object's
-- data key sealed under the master key (SSE-S3) or a salted keyed digest of the customer's key
-- (SSE-C: the key itself is never stored); `sse_key_md5` the customer key's MD5, echoed in
-- answers. A bucket's default encryption is JSON (NULL: none).
ALTER TABLE objects ADD COLUMN sse TEXT;
ALTER TABLE objects ADD COLUMN sse_key BYTEA;
ALTER TABLE objects ADD COLUMN sse_key_md5 TEXT;
ALTER TABLE multipart_uploads ADD COLUMN sse TEXT;
ALTER TABLE multipart_uploads ADD COLUMN sse_key BYTEA;
ALTER TABLE multipart_uploads ADD COLUMN sse_key_md5 TEXT;
ALTER TABLE buckets ADD COLUMN encryption TEXT;
