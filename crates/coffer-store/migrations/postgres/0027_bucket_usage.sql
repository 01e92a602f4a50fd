-- PostgreSQL twin of ../sqlite/0027_bucket_usage.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Objects and bytes per bucket for metrics, kept by triggers as versions are written and
-- removed (a version's size never changes in place), so no one has to count by scanning.
-- Every stored version counts, current or not; delete markers hold no bytes and do not.
-- Existing buckets are counted once, here.
CREATE TABLE bucket_usage (
    bucket  TEXT COLLATE "C" PRIMARY KEY,
    objects BIGINT NOT NULL,
    bytes   BIGINT NOT NULL
);

INSERT INTO bucket_usage (bucket, objects, bytes)
SELECT name,
       (SELECT COUNT(*) FROM objects WHERE objects.bucket = buckets.name AND is_delete_marker = 0),
       (SELECT COALESCE(SUM(size), 0) FROM objects WHERE objects.bucket = buckets.name AND is_delete_marker = 0)
FROM buckets;

CREATE FUNCTION bucket_usage_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bucket_usage (bucket, objects, bytes) VALUES (NEW.name, 0, 0) ON CONFLICT (bucket) DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION bucket_usage_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM bucket_usage WHERE bucket = OLD.name;
    RETURN NULL;
END $$;

CREATE FUNCTION bucket_usage_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bucket_usage SET objects = objects + 1, bytes = bytes + NEW.size WHERE bucket = NEW.bucket;
    RETURN NULL;
END $$;

CREATE FUNCTION bucket_usage_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bucket_usage SET objects = objects - 1, bytes = bytes - OLD.size WHERE bucket = OLD.bucket;
    RETURN NULL;
END $$;

CREATE TRIGGER bucket_usage_created AFTER INSERT ON buckets
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_created();
CREATE TRIGGER bucket_usage_dropped AFTER DELETE ON buckets
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_dropped();
CREATE TRIGGER bucket_usage_stored AFTER INSERT ON objects
    FOR EACH ROW WHEN (NEW.is_delete_marker = 0) EXECUTE FUNCTION bucket_usage_stored();
CREATE TRIGGER bucket_usage_removed AFTER DELETE ON objects
    FOR EACH ROW WHEN (OLD.is_delete_marker = 0) EXECUTE FUNCTION bucket_usage_removed();
