-- IAM OpenID Connect providers, one per issuer URL (kept without https://) in an account. The
-- client ids (audiences) and thumbprints are short JSON lists, read and written whole.
CREATE TABLE oidc_providers (
    provider_id TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id),
    url         TEXT NOT NULL,
    client_ids  TEXT NOT NULL,
    thumbprints TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, url)
);

CREATE TABLE oidc_provider_tags (
    provider_id TEXT NOT NULL REFERENCES oidc_providers (provider_id) ON DELETE CASCADE,
    tag_key_key TEXT NOT NULL,
    tag_key     TEXT NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (provider_id, tag_key_key)
);
