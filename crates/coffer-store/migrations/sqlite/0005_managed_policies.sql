-- Customer managed policies with their versions, and attachments of managed policies to users
-- and groups. Attachments name policies by ARN, so AWS managed policies (built into Coffer,
-- not stored) attach the same way.

CREATE TABLE managed_policies (
    policy_id       TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (account_id),
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    path            TEXT NOT NULL,
    description     TEXT,
    default_version INTEGER NOT NULL,
    next_version    INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE policy_versions (
    policy_id   TEXT NOT NULL REFERENCES managed_policies (policy_id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- entity_kind is 'user' or 'group'.
CREATE TABLE policy_attachments (
    account_id  TEXT NOT NULL,
    policy_arn  TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    PRIMARY KEY (policy_arn, entity_kind, entity_id)
);
CREATE INDEX policy_attachments_by_entity ON policy_attachments (entity_kind, entity_id);
