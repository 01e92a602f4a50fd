-- IAM roles: who may assume them (the trust policy, kept as written and returned URL-encoded,
-- as IAM returns it), for how long, and within which boundary.
CREATE TABLE roles (
    role_id              TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (account_id),
    name                 TEXT NOT NULL,
    -- Role names are unique without regard to case, as user names.
    name_key             TEXT NOT NULL,
    path                 TEXT NOT NULL,
    trust_policy         TEXT NOT NULL,
    description          TEXT,
    max_session_duration BIGINT NOT NULL,
    permissions_boundary TEXT,
    created_at           BIGINT NOT NULL,
    last_used_at         BIGINT,
    last_used_region     TEXT,
    UNIQUE (account_id, name_key)
);

CREATE TABLE role_tags (
    role_id     TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    -- Tag keys are case-insensitive, case-preserving.
    tag_key_key TEXT NOT NULL,
    tag_key     TEXT NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (role_id, tag_key_key)
);
