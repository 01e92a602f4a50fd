-- S3 Lifecycle. A bucket's rules, validated and kept as JSON (the store's own model of them).
CREATE TABLE bucket_lifecycle (
    bucket      TEXT PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    rules       TEXT NOT NULL
);

-- Where the lifecycle worker's last pass stopped, per bucket, rule and phase (current
-- versions, delete markers, noncurrent versions, uploads), so a pass does a bounded amount
-- of work and the next one, on any node, goes on from there.
CREATE TABLE lifecycle_cursors (
    bucket      TEXT NOT NULL REFERENCES buckets (name) ON DELETE CASCADE,
    rule_id     TEXT NOT NULL,
    phase       TEXT NOT NULL,
    after_key   BLOB NOT NULL,
    -- Within `after_key`'s versions (the noncurrent phase pages through versions).
    after_order BIGINT,
    PRIMARY KEY (bucket, rule_id, phase)
);

-- Leases: which node does a job that one node at a time must do, until when.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
