-- PostgreSQL twin of ../sqlite/0002_objects.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Buckets, objects and multipart uploads. Object keys are BLOBs holding their UTF-8 bytes:
-- BLOBs compare byte by byte, which is S3's listing order, and a listing can seek to any
-- byte string (the first key past a common prefix need not be valid UTF-8).
-- Object bytes live in files named by blob ids (never by key); these rows say which.

CREATE TABLE buckets (
    name        TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    region      TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX buckets_by_account ON buckets (account_id, name);

-- Every object row is one version: `version_id` is 'null' while a bucket never enabled
-- versioning, and a row may be a delete marker, so versioning adds behaviour, not a migration.
CREATE TABLE objects (
    bucket              TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    object_key          BYTEA NOT NULL,
    version_id          TEXT COLLATE "C" NOT NULL,
    is_latest           BIGINT NOT NULL,
    is_delete_marker    BIGINT NOT NULL,
    size                BIGINT NOT NULL,
    etag                TEXT COLLATE "C" NOT NULL,
    last_modified       BIGINT NOT NULL,
    -- The object's bytes: one blob, or (when NULL) its rows in object_parts.
    blob_id             TEXT COLLATE "C",
    parts_count         BIGINT NOT NULL,
    content_type        TEXT COLLATE "C",
    cache_control       TEXT COLLATE "C",
    content_disposition TEXT COLLATE "C",
    content_encoding    TEXT COLLATE "C",
    content_language    TEXT COLLATE "C",
    expires             TEXT COLLATE "C",
    -- x-amz-meta-* as a JSON object.
    user_metadata       TEXT COLLATE "C" NOT NULL,
    checksum_algorithm  TEXT COLLATE "C",
    checksum_type       TEXT COLLATE "C",
    checksum_value      TEXT COLLATE "C",
    PRIMARY KEY (bucket, object_key, version_id)
);

CREATE TABLE object_parts (
    bucket          TEXT COLLATE "C" NOT NULL,
    object_key      BYTEA NOT NULL,
    version_id      TEXT COLLATE "C" NOT NULL,
    part_number     BIGINT NOT NULL,
    blob_id         TEXT COLLATE "C" NOT NULL,
    size            BIGINT NOT NULL,
    etag            TEXT COLLATE "C" NOT NULL,
    checksum_value  TEXT COLLATE "C",
    PRIMARY KEY (bucket, object_key, version_id, part_number),
    FOREIGN KEY (bucket, object_key, version_id) REFERENCES objects (bucket, object_key, version_id) ON DELETE CASCADE
);

CREATE TABLE multipart_uploads (
    upload_id           TEXT COLLATE "C" PRIMARY KEY,
    bucket              TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    object_key          BYTEA NOT NULL,
    initiated           BIGINT NOT NULL,
    initiator_arn       TEXT COLLATE "C" NOT NULL,
    initiator_id        TEXT COLLATE "C" NOT NULL,
    content_type        TEXT COLLATE "C",
    cache_control       TEXT COLLATE "C",
    content_disposition TEXT COLLATE "C",
    content_encoding    TEXT COLLATE "C",
    content_language    TEXT COLLATE "C",
    expires             TEXT COLLATE "C",
    user_metadata       TEXT COLLATE "C" NOT NULL,
    checksum_algorithm  TEXT COLLATE "C",
    checksum_type       TEXT COLLATE "C"
);
CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket, object_key, initiated);

CREATE TABLE upload_parts (
    upload_id       TEXT COLLATE "C" NOT NULL REFERENCES multipart_uploads (upload_id) ON DELETE CASCADE,
    part_number     BIGINT NOT NULL,
    blob_id         TEXT COLLATE "C" NOT NULL,
    size            BIGINT NOT NULL,
    etag            TEXT COLLATE "C" NOT NULL,
    last_modified   BIGINT NOT NULL,
    -- The part's checksum in the upload's algorithm, and always its CRC64NVME (so a
    -- full-object CRC64NVME can be combined without reading the bytes again).
    checksum_value  TEXT COLLATE "C",
    crc64nvme       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
