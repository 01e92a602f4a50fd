-- Objects and bytes per bucket for metrics, kept by triggers as versions are written and
-- removed (a version's size never changes in place), so no one has to count by scanning.
-- Every stored version counts, current or not; delete markers hold no bytes and do not.
-- Existing buckets are counted once, here.
CREATE TABLE bucket_usage (
    bucket  TEXT PRIMARY KEY,
    objects BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

INSERT INTO bucket_usage (bucket, objects, bytes)
SELECT name,
       (SELECT COUNT(*) FROM objects WHERE objects.bucket = buckets.name AND is_delete_marker = 0),
       (SELECT COALESCE(SUM(size), 0) FROM objects WHERE objects.bucket = buckets.name AND is_delete_marker = 0)
FROM buckets;

CREATE TRIGGER bucket_usage_created AFTER INSERT ON buckets
BEGIN
    INSERT INTO bucket_usage (bucket, objects, bytes) VALUES (NEW.name, 0, 0)
    ON CONFLICT (bucket) DO NOTHING;
END;

CREATE TRIGGER bucket_usage_dropped AFTER DELETE ON buckets
BEGIN
    DELETE FROM bucket_usage WHERE bucket = OLD.name;
END;

CREATE TRIGGER bucket_usage_stored AFTER INSERT ON objects WHEN NEW.is_delete_marker = 0
BEGIN
    UPDATE bucket_usage SET objects = objects + 1, bytes = bytes + NEW.size WHERE bucket = NEW.bucket;
END;

CREATE TRIGGER bucket_usage_removed AFTER DELETE ON objects WHEN OLD.is_delete_marker = 0
BEGIN
    UPDATE bucket_usage SET objects = objects - 1, bytes = bytes - OLD.size WHERE bucket = OLD.bucket;
END;
