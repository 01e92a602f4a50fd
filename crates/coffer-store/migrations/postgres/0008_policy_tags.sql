-- PostgreSQL twin of ../sqlite/0008_policy_tags.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Tags of customer managed policies (keys case-insensitive, case-preserving, as user tags).
CREATE TABLE policy_tags (
    policy_id   TEXT COLLATE "C" NOT NULL REFERENCES managed_policies (policy_id) ON DELETE CASCADE,
    tag_key_key TEXT COLLATE "C" NOT NULL,
    tag_key     TEXT COLLATE "C" NOT NULL,
    tag_value   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (policy_id, tag_key_key)
);
