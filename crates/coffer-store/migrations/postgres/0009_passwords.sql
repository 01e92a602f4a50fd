-- PostgreSQL twin of ../sqlite/0009_passwords.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Console passwords: IAM users' login profiles, each account's password policy, and the root
-- user's password. Passwords are stored only as argon2id PHC strings (hashed by coffer-auth).
CREATE TABLE login_profiles (
    user_id                 TEXT COLLATE "C" PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    password_hash           TEXT COLLATE "C" NOT NULL,
    password_reset_required BIGINT NOT NULL,
    created_at              BIGINT NOT NULL,
    password_changed_at     BIGINT NOT NULL
);
ALTER TABLE users ADD COLUMN password_last_used BIGINT;

-- NULL columns are settings the policy leaves unset (no expiry, no reuse prevention).
CREATE TABLE password_policies (
    account_id                    TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts (account_id),
    minimum_password_length       BIGINT NOT NULL,
    require_symbols               BIGINT NOT NULL,
    require_numbers               BIGINT NOT NULL,
    require_uppercase_characters  BIGINT NOT NULL,
    require_lowercase_characters  BIGINT NOT NULL,
    allow_users_to_change_password BIGINT NOT NULL,
    max_password_age              BIGINT,
    password_reuse_prevention     BIGINT,
    hard_expiry                   BIGINT NOT NULL
);

ALTER TABLE accounts ADD COLUMN root_password_hash TEXT COLLATE "C";
