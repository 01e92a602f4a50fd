-- Each account's last credential report (GenerateCredentialReport), kept whole as IAM keeps
-- it: GetCredentialReport on any node returns the same snapshot until it is made again.
CREATE TABLE credential_reports (
    account_id   TEXT PRIMARY KEY REFERENCES accounts (account_id),
    generated_at BIGINT NOT NULL,
    content      TEXT NOT NULL
);
