-- PostgreSQL twin of ../sqlite/0004_groups_and_policies.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- IAM groups, their members, and inline policies of users and groups. Policy documents are
-- kept exactly as written (IAM returns them as they were put, URL-encoded).

CREATE TABLE groups (
    group_id    TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name        TEXT COLLATE "C" NOT NULL,
    -- Group names are unique without regard to case, as user names.
    name_key    TEXT COLLATE "C" NOT NULL,
    path        TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE group_members (
    group_id    TEXT COLLATE "C" NOT NULL REFERENCES groups (group_id),
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

-- owner_kind is 'user' or 'group'; owner_id the user's or group's id.
CREATE TABLE inline_policies (
    owner_kind  TEXT COLLATE "C" NOT NULL,
    owner_id    TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    document    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name_key)
);
