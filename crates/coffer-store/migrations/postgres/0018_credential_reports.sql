-- PostgreSQL twin of ../sqlite/0018_credential_reports.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- Each account's last credential report (GenerateCredentialReport), kept whole as IAM keeps
-- it: GetCredentialReport on any node returns the same snapshot until it is made again.
CREATE TABLE credential_reports (
    account_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts (account_id),
    generated_at BIGINT NOT NULL,
    content      TEXT COLLATE "C" NOT NULL
);
