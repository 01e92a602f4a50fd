-- PostgreSQL twin of ../sqlite/0027_bucket_usage.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Objects and bytes per bucket for metrics, without scanning objects. Every stored version
-- counts, current or not; delete markers hold no bytes and do not. Triggers append a delta
-- row per version written or removed (a version's size never changes in place): appends
-- only, so no writer ever waits on another for a shared counter row (row locks on one
-- counter would be taken in the group commit's key order, not the bucket's, and could
-- deadlock two nodes). A background task folds the deltas into `bucket_usage`; a reading
-- adds the deltas not folded yet.
CREATE TABLE bucket_usage (
    bucket  TEXT COLLATE "C" PRIMARY KEY,
    objects BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

CREATE TABLE bucket_usage_deltas (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket  TEXT COLLATE "C" NOT NULL,
    objects BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

CREATE FUNCTION bucket_usage_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bucket_usage_deltas (bucket, objects, bytes) VALUES (NEW.bucket, 1, NEW.size);
    RETURN NULL;
END $$;

CREATE FUNCTION bucket_usage_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bucket_usage_deltas (bucket, objects, bytes) VALUES (OLD.bucket, -1, -OLD.size);
    RETURN NULL;
END $$;

-- Nodes still running the previous version write no object until the triggers and the count
-- of existing versions are in place, so no version is counted twice or missed.
LOCK TABLE objects IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER bucket_usage_stored AFTER INSERT ON objects
    FOR EACH ROW WHEN (NEW.is_delete_marker = 0) EXECUTE FUNCTION bucket_usage_stored();
CREATE TRIGGER bucket_usage_removed AFTER DELETE ON objects
    FOR EACH ROW WHEN (OLD.is_delete_marker = 0) EXECUTE FUNCTION bucket_usage_removed();

INSERT INTO bucket_usage (bucket, objects, bytes)
SELECT bucket, COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE is_delete_marker = 0 GROUP BY bucket;
