-- PostgreSQL twin of ../sqlite/0012_console_sessions.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Console sessions, so any node serves any signed-in person and a restart signs nobody out.
-- A session is found by the SHA-256 of its token (the token itself is only in the cookie);
-- its record is sealed, as it can hold a new secret on its way to the one page that shows it.
CREATE TABLE console_sessions (
    token_digest  BYTEA PRIMARY KEY,
    expires_at    BIGINT NOT NULL,
    sealed_record BYTEA NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
