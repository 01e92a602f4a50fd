-- PostgreSQL twin of ../sqlite/0021_lifecycle.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- S3 Lifecycle. A bucket's rules, validated and kept as JSON (the store's own model of them).
CREATE TABLE bucket_lifecycle (
    bucket      TEXT COLLATE "C" PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    rules       TEXT NOT NULL
);

-- Where the lifecycle worker's last pass stopped, per bucket, rule and phase (current
-- versions, delete markers, noncurrent versions, uploads), so a pass does a bounded amount
-- of work and the next one, on any node, goes on from there.
CREATE TABLE lifecycle_cursors (
    bucket      TEXT COLLATE "C" NOT NULL REFERENCES buckets (name) ON DELETE CASCADE,
    rule_id     TEXT COLLATE "C" NOT NULL,
    phase       TEXT COLLATE "C" NOT NULL,
    after_key   BYTEA NOT NULL,
    -- Within `after_key`'s versions (the noncurrent phase pages through versions).
    after_order BIGINT,
    PRIMARY KEY (bucket, rule_id, phase)
);

-- Leases: which node does a job that one node at a time must do, until when.
CREATE TABLE leases (
    name        TEXT COLLATE "C" PRIMARY KEY,
    holder      TEXT COLLATE "C" NOT NULL,
    expires_at  BIGINT NOT NULL
);
