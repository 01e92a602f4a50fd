-- The console's sign-in throttle, shared by every node: each attempt is a row written before
-- it is judged, so attempts racing on several nodes all see each other. Addresses and names
-- are kept as 16 bytes of their SHA-256, never as typed.
CREATE TABLE signin_attempts (
    attempt_id   BLOB PRIMARY KEY,
    address_key  BLOB NOT NULL,
    -- NULL once the name's delay refused the attempt: it still costs its address, not the name.
    name_key     BLOB,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX signin_attempts_by_address ON signin_attempts (address_key, attempted_at);
CREATE INDEX signin_attempts_by_name ON signin_attempts (name_key, attempted_at);
CREATE INDEX signin_attempts_by_time ON signin_attempts (attempted_at);
-- Addresses a name signed in from: they pass the delay failures elsewhere put on the name.
CREATE TABLE signin_known_addresses (
    name_key     BLOB NOT NULL,
    address_key  BLOB NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (name_key, address_key)
);
CREATE INDEX signin_known_addresses_by_time ON signin_known_addresses (last_used_at);
