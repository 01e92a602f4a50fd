-- Coffer's key ring (KMS) for SSE-KMS. A key's material is 32 random bytes sealed under the
-- master key, never stored in the clear. `managed` names the AWS managed key S3 made for the
-- account (`aws/s3`), NULL for a key the account created; `state` is Enabled, Disabled or
-- PendingDeletion (with `deletion_date`, Unix milliseconds). An alias names one key of its
-- account. An SSE-KMS version (or upload) keeps its data key sealed under the KMS key in
-- `sse_key`, and in `sse_kms` the key's ARN, the encryption context and whether a bucket key
-- was asked for (JSON).
CREATE TABLE kms_keys (
    key_id        TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (account_id),
    region        TEXT NOT NULL,
    description   TEXT NOT NULL,
    state         TEXT NOT NULL,
    managed       TEXT,
    material      BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    deletion_date INTEGER
);
CREATE INDEX kms_keys_by_account ON kms_keys (account_id, key_id);
CREATE UNIQUE INDEX kms_keys_managed ON kms_keys (account_id, managed);

CREATE TABLE kms_aliases (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    alias_name TEXT NOT NULL,
    key_id     TEXT NOT NULL REFERENCES kms_keys (key_id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, alias_name)
);

ALTER TABLE objects ADD COLUMN sse_kms TEXT;
ALTER TABLE multipart_uploads ADD COLUMN sse_kms TEXT;
INSERT INTO cache_epochs (cache, epoch) VALUES ('kms_keys', 0);
