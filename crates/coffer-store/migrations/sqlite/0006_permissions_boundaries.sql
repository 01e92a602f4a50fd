-- A user's permissions boundary: the ARN of a managed policy (customer or AWS) that caps what
-- its identity policies can grant.
ALTER TABLE users ADD COLUMN permissions_boundary TEXT;
