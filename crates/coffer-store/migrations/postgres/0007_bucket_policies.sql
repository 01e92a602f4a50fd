-- PostgreSQL twin of ../sqlite/0007_bucket_policies.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Bucket policies, and each bucket's Block Public Access settings (four flags as "1111":
-- BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets; NULL when the
-- bucket has no configuration). New buckets block public access, as S3 does since 2023.
CREATE TABLE bucket_policies (
    bucket      TEXT COLLATE "C" PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    document    TEXT COLLATE "C" NOT NULL
);
ALTER TABLE buckets ADD COLUMN public_access_block TEXT COLLATE "C";
