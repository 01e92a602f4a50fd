-- PostgreSQL twin of ../sqlite/0023_acls_and_storage_classes.sql: BIGINT for INTEGER, BYTEA for BLOB, and text compared
-- byte by byte (COLLATE "C"), as SQLite and S3's key order do. Kept in step by a test.
-- S3 access control lists, Object Ownership and storage classes.
-- A bucket's Object Ownership setting (NULL: none set, which S3 treats as ObjectWriter) and
-- its ACL; a version's owning account (NULL: the bucket's owner) and ACL; an upload's, for
-- the object it will make. An ACL is a JSON list of grants; NULL is S3's default, the owner
-- with FULL_CONTROL. A storage class is the one the writer named (NULL: STANDARD).
ALTER TABLE buckets ADD COLUMN object_ownership TEXT;
ALTER TABLE buckets ADD COLUMN acl TEXT;
ALTER TABLE objects ADD COLUMN owner_account TEXT;
ALTER TABLE objects ADD COLUMN acl TEXT;
ALTER TABLE objects ADD COLUMN storage_class TEXT;
ALTER TABLE multipart_uploads ADD COLUMN owner_account TEXT;
ALTER TABLE multipart_uploads ADD COLUMN acl TEXT;
ALTER TABLE multipart_uploads ADD COLUMN storage_class TEXT;
