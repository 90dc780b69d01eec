-- Who each statement is about and whether it arrived under restriction of processing, so that a read can apply the
-- learner's consents and restrictions before decrypting anything. learner is the tenant-keyed pseudonym of the learner
-- whose data key encrypts the blob (NULL: no identifiable learner, tenant key); restricted is 1 for a statement kept
-- but not to be processed further. Both are set once, at the write. Adding them rewrites no row.
ALTER TABLE statements ADD COLUMN learner BLOB NULL;
ALTER TABLE statements ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
