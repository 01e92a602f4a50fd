-- A CompleteMultipartUpload retried after it succeeded (its response lost) must succeed
-- again, as in S3: completed uploads are remembered for a day with the ETag they produced.
CREATE TABLE completed_uploads (
    upload_id     TEXT PRIMARY KEY,
    bucket        TEXT NOT NULL,
    object_key    BLOB NOT NULL,
    etag          TEXT NOT NULL,
    completed_at  BIGINT NOT NULL
);
CREATE INDEX completed_uploads_by_time ON completed_uploads (completed_at);
