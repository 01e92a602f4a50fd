-- PostgreSQL twin of ../sqlite/0026_kms.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Coffer's key ring (KMS) for SSE-KMS. A key's material is 32 random bytes sealed under the
-- master key, never stored in the clear. `managed` names the AWS managed key S3 made for the
-- account (`aws/s3`), NULL for a key the account created; `state` is Enabled, Disabled or
-- PendingDeletion (with `deletion_date`, Unix milliseconds). An alias names one key of its
-- account. An SSE-KMS version (or upload) keeps its data key sealed under the KMS key in
-- `sse_key`, and in `sse_kms` the key's ARN, the encryption context and whether a bucket key
-- was asked for (JSON).
CREATE TABLE kms_keys (
    key_id        TEXT COLLATE "C" PRIMARY KEY,
    account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    region        TEXT COLLATE "C" NOT NULL,
    description   TEXT COLLATE "C" NOT NULL,
    state         TEXT COLLATE "C" NOT NULL,
    managed       TEXT COLLATE "C",
    material      BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    deletion_date BIGINT
);
CREATE INDEX kms_keys_by_account ON kms_keys (account_id, key_id);
CREATE UNIQUE INDEX kms_keys_managed ON kms_keys (account_id, managed);

CREATE TABLE kms_aliases (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    alias_name TEXT COLLATE "C" NOT NULL,
    key_id     TEXT COLLATE "C" NOT NULL REFERENCES kms_keys (key_id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, alias_name)
);

ALTER TABLE objects ADD COLUMN sse_kms TEXT;
ALTER TABLE multipart_uploads ADD COLUMN sse_kms TEXT;
INSERT INTO cache_epochs (cache, epoch) VALUES ('kms_keys', 0);
