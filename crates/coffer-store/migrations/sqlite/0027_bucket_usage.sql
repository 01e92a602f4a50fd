-- Objects and bytes per bucket for metrics, without scanning objects. Every stored version
-- counts, current or not; delete markers hold no bytes and do not. Triggers append a delta
-- row per version written or removed (a version's size never changes in place): appends
-- only, so no writer ever waits on another for a shared counter row. A background task
-- folds the deltas into `bucket_usage`; a reading adds the deltas not folded yet.
CREATE TABLE bucket_usage (
    bucket  TEXT PRIMARY KEY,
    objects BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

CREATE TABLE bucket_usage_deltas (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket  TEXT NOT NULL,
    objects BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

CREATE TRIGGER bucket_usage_stored AFTER INSERT ON objects WHEN NEW.is_delete_marker = 0
BEGIN
    INSERT INTO bucket_usage_deltas (bucket, objects, bytes) VALUES (NEW.bucket, 1, NEW.size);
END;

CREATE TRIGGER bucket_usage_removed AFTER DELETE ON objects WHEN OLD.is_delete_marker = 0
BEGIN
    INSERT INTO bucket_usage_deltas (bucket, objects, bytes) VALUES (OLD.bucket, -1, -OLD.size);
END;

-- Existing versions, counted once (SQLite runs this with the write lock held).
INSERT INTO bucket_usage (bucket, objects, bytes)
SELECT bucket, COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE is_delete_marker = 0 GROUP BY bucket;
