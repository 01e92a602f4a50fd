-- Small objects' bytes, kept in the database instead of a blob file of their own: a PUT of
-- one is then its rows' transaction alone (no file, no file or directory fsync of its own),
-- its bytes made durable by the group commit's one WAL sync, and a GET reads them with the
-- row. A table of their own, not a column of `objects`: a row holding a small body in its
-- own B-tree page would spread the rows a listing walks over more pages. `body_id` is what
-- a blob's id is to it: an encrypted body is sealed under a key derived from it. A body goes
-- with its version.
CREATE TABLE object_bodies (
    bucket          TEXT NOT NULL,
    object_key      BLOB NOT NULL,
    version_id      TEXT NOT NULL,
    body_id         TEXT NOT NULL,
    body            BLOB NOT NULL,
    PRIMARY KEY (bucket, object_key, version_id),
    FOREIGN KEY (bucket, object_key, version_id) REFERENCES objects (bucket, object_key, version_id) ON DELETE CASCADE
);
