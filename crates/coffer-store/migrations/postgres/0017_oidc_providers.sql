-- PostgreSQL twin of ../sqlite/0017_oidc_providers.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- IAM OpenID Connect providers, one per issuer URL (kept without https://) in an account. The
-- client ids (audiences) and thumbprints are short JSON lists, read and written whole.
CREATE TABLE oidc_providers (
    provider_id TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    url         TEXT COLLATE "C" NOT NULL,
    client_ids  TEXT COLLATE "C" NOT NULL,
    thumbprints TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, url)
);

CREATE TABLE oidc_provider_tags (
    provider_id TEXT COLLATE "C" NOT NULL REFERENCES oidc_providers (provider_id) ON DELETE CASCADE,
    tag_key_key TEXT COLLATE "C" NOT NULL,
    tag_key     TEXT COLLATE "C" NOT NULL,
    tag_value   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (provider_id, tag_key_key)
);
