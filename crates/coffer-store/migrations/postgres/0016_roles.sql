-- PostgreSQL twin of ../sqlite/0016_roles.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- IAM roles: who may assume them (the trust policy, kept as written and returned URL-encoded,
-- as IAM returns it), for how long, and within which boundary.
CREATE TABLE roles (
    role_id              TEXT COLLATE "C" PRIMARY KEY,
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name                 TEXT COLLATE "C" NOT NULL,
    -- Role names are unique without regard to case, as user names.
    name_key             TEXT COLLATE "C" NOT NULL,
    path                 TEXT COLLATE "C" NOT NULL,
    trust_policy         TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C",
    max_session_duration BIGINT NOT NULL,
    permissions_boundary TEXT COLLATE "C",
    created_at           BIGINT NOT NULL,
    last_used_at         BIGINT,
    last_used_region     TEXT COLLATE "C",
    UNIQUE (account_id, name_key)
);

CREATE TABLE role_tags (
    role_id     TEXT COLLATE "C" NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    -- Tag keys are case-insensitive, case-preserving.
    tag_key_key TEXT COLLATE "C" NOT NULL,
    tag_key     TEXT COLLATE "C" NOT NULL,
    tag_value   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (role_id, tag_key_key)
);
