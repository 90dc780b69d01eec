-- Who each statement is about and whether it arrived under restriction of processing, so that a read can apply the
-- learner's consents and restrictions before decrypting anything. learner is the tenant-keyed pseudonym of the learner
-- whose data key encrypts the blob (NULL: no identifiable learner, tenant key); restricted marks a statement kept but
-- not to be processed further. Both are set once, at the write. A NULL column and a constant default are catalogue
-- changes only: no row is rewritten, however large the table.
ALTER TABLE statements
    ADD COLUMN learner bytea NULL,
    ADD COLUMN restricted boolean NOT NULL DEFAULT false;
