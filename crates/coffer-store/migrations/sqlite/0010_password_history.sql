-- The hashes of a login profile's earlier passwords, newest first, one per line (at most 24,
-- the most IAM's PasswordReusePrevention asks for).
ALTER TABLE login_profiles ADD COLUMN previous_hashes TEXT NOT NULL DEFAULT '';
