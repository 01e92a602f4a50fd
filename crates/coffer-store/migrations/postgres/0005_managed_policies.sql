-- PostgreSQL twin of ../sqlite/0005_managed_policies.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Customer managed policies with their versions, and attachments of managed policies to users
-- and groups. Attachments name policies by ARN, so AWS managed policies (built into Coffer,
-- not stored) attach the same way.

CREATE TABLE managed_policies (
    policy_id       TEXT COLLATE "C" PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name            TEXT COLLATE "C" NOT NULL,
    name_key        TEXT COLLATE "C" NOT NULL,
    path            TEXT COLLATE "C" NOT NULL,
    description     TEXT COLLATE "C",
    default_version BIGINT NOT NULL,
    next_version    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE policy_versions (
    policy_id   TEXT COLLATE "C" NOT NULL REFERENCES managed_policies (policy_id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    document    TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- entity_kind is 'user' or 'group'.
CREATE TABLE policy_attachments (
    account_id  TEXT COLLATE "C" NOT NULL,
    policy_arn  TEXT COLLATE "C" NOT NULL,
    entity_kind TEXT COLLATE "C" NOT NULL,
    entity_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (policy_arn, entity_kind, entity_id)
);
CREATE INDEX policy_attachments_by_entity ON policy_attachments (entity_kind, entity_id);
