-- S3 versioning. A bucket's state: NULL while it never enabled versioning, then 'Enabled' or
-- 'Suspended' (never NULL again, as in S3).
ALTER TABLE buckets ADD COLUMN versioning TEXT;

-- Orders a key's versions newest first: each new version takes one less than the smallest
-- so far, so an ascending index walk meets a key's newest version first and a listing can
-- resume after any (key, version) with one row-value seek.
ALTER TABLE objects ADD COLUMN version_order BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX objects_by_version_order ON objects (bucket, object_key, version_order);

-- The latest version of each key (an object or a delete marker): reads and listings of
-- current objects seek here and never walk past older versions. Unique, so two writers that
-- both made a version latest cannot both commit.
CREATE UNIQUE INDEX objects_latest ON objects (bucket, object_key) WHERE is_latest = 1;

-- The current objects (latest and not a delete marker): what ListObjects walks, so a bucket
-- whose keys were deleted under versioning lists as fast as an empty one.
CREATE INDEX objects_live ON objects (bucket, object_key) WHERE is_latest = 1 AND is_delete_marker = 0;
