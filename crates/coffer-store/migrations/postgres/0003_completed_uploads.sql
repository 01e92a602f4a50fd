-- PostgreSQL twin of ../sqlite/0003_completed_uploads.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- A CompleteMultipartUpload retried after it succeeded (its response lost) must succeed
-- again, as in S3: completed uploads are remembered for a day with the ETag they produced.
CREATE TABLE completed_uploads (
    upload_id     TEXT COLLATE "C" PRIMARY KEY,
    bucket        TEXT COLLATE "C" NOT NULL,
    object_key    BYTEA NOT NULL,
    etag          TEXT COLLATE "C" NOT NULL,
    completed_at  BIGINT NOT NULL
);
CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_at);
