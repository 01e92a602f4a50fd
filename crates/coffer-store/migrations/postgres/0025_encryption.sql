-- PostgreSQL twin of ../sqlite/0025_encryption.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Server-side encryption at rest. A version's (and an upload's, for its object) encryption:
-- `sse` is AES256 (SSE-S3) or SSE-C (NULL: stored in the clear); `sse_key` holds the object's
-- data key sealed under a key derived from the master key (SSE-S3) or a salted keyed digest of
-- the customer's key (SSE-C: neither the key nor its MD5 is stored). A bucket's default
-- encryption is JSON (NULL: the server's default for new buckets).
ALTER TABLE objects ADD COLUMN sse TEXT;
ALTER TABLE objects ADD COLUMN sse_key BYTEA;
ALTER TABLE multipart_uploads ADD COLUMN sse TEXT;
ALTER TABLE multipart_uploads ADD COLUMN sse_key BYTEA;
ALTER TABLE buckets ADD COLUMN encryption TEXT;
