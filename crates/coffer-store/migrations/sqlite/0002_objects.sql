-- Buckets, objects and multipart uploads. Object keys are BLOBs holding their UTF-8 bytes:
-- BLOBs compare byte by byte, which is S3's listing order, and a listing can seek to any
-- byte string (the first key past a common prefix need not be valid UTF-8).
-- Object bytes live in files named by blob ids (never by key); these rows say which.

CREATE TABLE buckets (
    name        TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id),
    region      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX buckets_by_account ON buckets (account_id, name);

-- Every object row is one version: `version_id` is 'null' while a bucket never enabled
-- versioning, and a row may be a delete marker, so versioning adds behaviour, not a migration.
CREATE TABLE objects (
    bucket              TEXT NOT NULL REFERENCES buckets (name),
    object_key          BLOB NOT NULL,
    version_id          TEXT NOT NULL,
    is_latest           INTEGER NOT NULL,
    is_delete_marker    INTEGER NOT NULL,
    size                BIGINT NOT NULL,
    etag                TEXT NOT NULL,
    last_modified       BIGINT NOT NULL,
    -- The object's bytes: one blob, or (when NULL) its rows in object_parts.
    blob_id             TEXT,
    parts_count         INTEGER NOT NULL,
    content_type        TEXT,
    cache_control       TEXT,
    content_disposition TEXT,
    content_encoding    TEXT,
    content_language    TEXT,
    expires             TEXT,
    -- x-amz-meta-* as a JSON object.
    user_metadata       TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_type       TEXT,
    checksum_value      TEXT,
    PRIMARY KEY (bucket, object_key, version_id)
);

CREATE TABLE object_parts (
    bucket          TEXT NOT NULL,
    object_key      BLOB NOT NULL,
    version_id      TEXT NOT NULL,
    part_number     INTEGER NOT NULL,
    blob_id         TEXT NOT NULL,
    size            BIGINT NOT NULL,
    etag            TEXT NOT NULL,
    checksum_value  TEXT,
    PRIMARY KEY (bucket, object_key, version_id, part_number),
    FOREIGN KEY (bucket, object_key, version_id) REFERENCES objects (bucket, object_key, version_id) ON DELETE CASCADE
);

CREATE TABLE multipart_uploads (
    upload_id           TEXT PRIMARY KEY,
    bucket              TEXT NOT NULL REFERENCES buckets (name),
    object_key          BLOB NOT NULL,
    initiated           BIGINT NOT NULL,
    initiator_arn       TEXT NOT NULL,
    initiator_id        TEXT NOT NULL,
    content_type        TEXT,
    cache_control       TEXT,
    content_disposition TEXT,
    content_encoding    TEXT,
    content_language    TEXT,
    expires             TEXT,
    user_metadata       TEXT NOT NULL,
    checksum_algorithm  TEXT,
    checksum_type       TEXT
);
CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket, object_key, initiated);

CREATE TABLE upload_parts (
    upload_id       TEXT NOT NULL REFERENCES multipart_uploads (upload_id) ON DELETE CASCADE,
    part_number     INTEGER NOT NULL,
    blob_id         TEXT NOT NULL,
    size            BIGINT NOT NULL,
    etag            TEXT NOT NULL,
    last_modified   BIGINT NOT NULL,
    -- The part's checksum in the upload's algorithm, and always its CRC64NVME (so a
    -- full-object CRC64NVME can be combined without reading the bytes again).
    checksum_value  TEXT,
    crc64nvme       TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
