-- Tags of customer managed policies (keys case-insensitive, case-preserving, as user tags).
CREATE TABLE policy_tags (
    policy_id   TEXT NOT NULL REFERENCES managed_policies (policy_id) ON DELETE CASCADE,
    tag_key_key TEXT NOT NULL,
    tag_key     TEXT NOT NULL,
    tag_value   TEXT NOT NULL,
    PRIMARY KEY (policy_id, tag_key_key)
);
