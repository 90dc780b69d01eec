-- Attachment contents, content-addressed per tenant and shared between statements.
-- hash_key is the keyed pseudonym of the sha2 (never the sha2 itself, which would let anyone holding a file confirm
-- that it is stored); blob is an AES-256-GCM envelope of the content type and the content under the tenant's data key
-- (key_id), so that erasing one learner never makes another learner's statement lose its attachment.
-- refs counts the statements that carried the content; statement_attachments says which ones, so that a statement
-- only ever returns data it carried itself, and removing a statement can release exactly its references.
CREATE TABLE attachments (
    no INTEGER PRIMARY KEY,
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    hash_key BLOB NOT NULL,
    key_id INTEGER NOT NULL,
    blob BLOB NOT NULL,
    refs INTEGER NOT NULL,
    UNIQUE (tenant_no, hash_key)
);

CREATE TABLE statement_attachments (
    seq INTEGER NOT NULL REFERENCES statements (seq),
    attachment_no INTEGER NOT NULL REFERENCES attachments (no),
    PRIMARY KEY (seq, attachment_no)
) WITHOUT ROWID;
