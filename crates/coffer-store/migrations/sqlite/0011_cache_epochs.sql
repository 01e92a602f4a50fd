-- One counter per read cache. A write that can change a cached value moves its counter on;
-- every node polls the counters and drops a cache whose counter moved, so a revoked key or a
-- changed policy stops working on every node sharing this database within a poll.
CREATE TABLE cache_epochs (
    cache  TEXT PRIMARY KEY,
    epoch  BIGINT NOT NULL
);
INSERT INTO cache_epochs (cache, epoch) VALUES ('credentials', 0), ('buckets', 0), ('policies', 0);
