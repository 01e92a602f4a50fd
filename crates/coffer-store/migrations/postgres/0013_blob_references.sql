-- PostgreSQL twin of ../sqlite/0013_blob_references.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Which rows name a blob, found by the blob's id: orphan collection asks about a batch of
-- files at a time instead of loading every id, so its memory stays bounded at any count.
CREATE INDEX objects_by_blob ON objects (blob_id);
CREATE INDEX object_parts_by_blob ON object_parts (blob_id);
CREATE INDEX upload_parts_by_blob ON upload_parts (blob_id);
