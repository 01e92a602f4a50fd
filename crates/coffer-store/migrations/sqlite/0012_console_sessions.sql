-- Console sessions, so any node serves any signed-in person and a restart signs nobody out.
-- A session is found by the SHA-256 of its token (the token itself is only in the cookie);
-- its record is sealed, as it can hold a new secret on its way to the one page that shows it.
CREATE TABLE console_sessions (
    token_digest  BLOB PRIMARY KEY,
    expires_at    BIGINT NOT NULL,
    sealed_record BLOB NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
