-- PostgreSQL twin of ../sqlite/0011_cache_epochs.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- One counter per read cache. A write that can change a cached value moves its counter on;
-- every node polls the counters and drops a cache whose counter moved, so a revoked key or a
-- changed policy stops working on every node sharing this database within a poll.
CREATE TABLE cache_epochs (
    cache  TEXT COLLATE "C" PRIMARY KEY,
    epoch  BIGINT NOT NULL
);
INSERT INTO cache_epochs (cache, epoch) VALUES ('credentials', 0), ('buckets', 0), ('policies', 0);
