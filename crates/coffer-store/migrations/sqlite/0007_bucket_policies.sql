-- Bucket policies, and each bucket's Block Public Access settings (four flags as "1111":
-- BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets; NULL when the
-- bucket has no configuration). New buckets block public access, as S3 does since 2023.
CREATE TABLE bucket_policies (
    bucket      TEXT PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    document    TEXT NOT NULL
);
ALTER TABLE buckets ADD COLUMN public_access_block TEXT;
