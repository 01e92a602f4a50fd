-- PostgreSQL twin of ../sqlite/0010_password_history.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- The hashes of a login profile's earlier passwords, newest first, one per line (at most 24,
-- the most IAM's PasswordReusePrevention asks for).
ALTER TABLE login_profiles ADD COLUMN previous_hashes TEXT COLLATE "C" NOT NULL DEFAULT '';
