-- PostgreSQL twin of ../sqlite/0006_permissions_boundaries.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- A user's permissions boundary: the ARN of a managed policy (customer or AWS) that caps what
-- its identity policies can grant.
ALTER TABLE users ADD COLUMN permissions_boundary TEXT COLLATE "C";
