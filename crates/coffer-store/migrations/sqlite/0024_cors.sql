-- S3 CORS: a bucket's rules, validated and kept as JSON (the store's own model of them), on the
-- bucket row, so a preflight and every cross-origin answer read them from the bucket cache.
ALTER TABLE buckets ADD COLUMN cors TEXT;
