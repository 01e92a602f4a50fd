-- A write of the `null` version over itself (a bucket that never enabled versioning, or a
-- suspended one) now updates its row in place instead of deleting it and inserting a new one:
-- the row keeps its key, order and latest mark, so one statement changes the table and the
-- blob index where a DELETE and an INSERT changed six B-trees each. A version's size may so
-- change in place, unlike what 0027 says: the difference is counted here.
CREATE TRIGGER bucket_usage_replaced AFTER UPDATE OF size, is_delete_marker ON objects
WHEN NEW.size <> OLD.size OR NEW.is_delete_marker <> OLD.is_delete_marker
BEGIN
    INSERT INTO bucket_usage_deltas (bucket, objects, bytes) VALUES (
        NEW.bucket,
        (CASE WHEN NEW.is_delete_marker = 0 THEN 1 ELSE 0 END)
            - (CASE WHEN OLD.is_delete_marker = 0 THEN 1 ELSE 0 END),
        (CASE WHEN NEW.is_delete_marker = 0 THEN NEW.size ELSE 0 END)
            - (CASE WHEN OLD.is_delete_marker = 0 THEN OLD.size ELSE 0 END)
    );
END;
