-- S3 server access logging: where a bucket's access log goes (target bucket, prefix, key
-- format and grants), kept as JSON on the bucket row so a request reads it from the bucket
-- cache.
ALTER TABLE buckets ADD COLUMN logging TEXT;
