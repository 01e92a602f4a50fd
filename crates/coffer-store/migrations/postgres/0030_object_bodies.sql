-- PostgreSQL twin of ../sqlite/0030_object_bodies.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Small objects' bytes, kept in the database instead of a blob file of their own: a PUT of
-- one is then its rows' transaction alone (no file, no file or directory fsync of its own),
-- its bytes made durable by the group commit, and a GET reads them with the row. A table of
-- their own, not a column of `objects`, so listings never step over object bytes. `body_id`
-- is what a blob's id is to it: an encrypted body is sealed under a key derived from it. A
-- body goes with its version.
CREATE TABLE object_bodies (
    bucket          TEXT COLLATE "C" NOT NULL,
    object_key      BYTEA NOT NULL,
    version_id      TEXT COLLATE "C" NOT NULL,
    body_id         TEXT COLLATE "C" NOT NULL,
    body            BYTEA NOT NULL,
    PRIMARY KEY (bucket, object_key, version_id),
    FOREIGN KEY (bucket, object_key, version_id) REFERENCES objects (bucket, object_key, version_id) ON DELETE CASCADE
);
-- Object bytes are read whole, and encrypted ones do not compress: out of line, uncompressed.
ALTER TABLE object_bodies ALTER COLUMN body SET STORAGE EXTERNAL;
