-- IAM groups, their members, and inline policies of users and groups. Policy documents are
-- kept exactly as written (IAM returns them as they were put, URL-encoded).

CREATE TABLE groups (
    group_id    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id),
    name        TEXT NOT NULL,
    -- Group names are unique without regard to case, as user names.
    name_key    TEXT NOT NULL,
    path        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES groups (group_id),
    user_id     TEXT NOT NULL REFERENCES users (user_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

-- owner_kind is 'user' or 'group'; owner_id the user's or group's id.
CREATE TABLE inline_policies (
    owner_kind  TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name_key)
);
