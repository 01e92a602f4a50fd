-- A session's record is changed by compare-and-set on this counter, so two requests of one
-- session (two tabs, two nodes) cannot undo each other's change, and an update can never
-- bring back a session signed out meanwhile.
ALTER TABLE console_sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
