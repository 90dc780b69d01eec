-- Statements, their index postings and their attachments. Every key and index leads with tenant_id (distributable by
-- tenant); nothing refers across tenants. seq is per tenant (max + 1) and stored strictly increases with it: both are
-- assigned by the writer under the tenant's advisory lock, so per tenant commit order = seq order = stored order.

-- terms holds the statement's own and inherited index terms (17 bytes each: kind byte, 16-byte keyed hash): what a
-- statement referring to this one inherits. The searchable form is statement_terms.
CREATE TABLE statements (
    tenant_id uuid NOT NULL,
    seq bigint NOT NULL,
    id uuid NOT NULL,
    stored timestamptz NOT NULL,
    key_id bigint NOT NULL,
    client_id bigint NOT NULL,
    blob bytea NOT NULL,
    content_hash bytea NOT NULL,
    terms bytea NOT NULL,
    ref_target uuid NULL,
    is_voiding boolean NOT NULL,
    voided boolean NOT NULL,
    has_timestamp boolean NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX statements_by_id ON statements (tenant_id, id);
-- since/until: stored bounds become seq bounds (stored increases with seq within a tenant).
CREATE INDEX statements_by_stored ON statements (tenant_id, stored);
CREATE INDEX statements_by_ref_target ON statements (tenant_id, ref_target) WHERE ref_target IS NOT NULL;

-- Postings: term = kind byte then the 16-byte keyed hash (kind 255: the writing client, as a 128-bit big-endian
-- number; never inherited). A filtered query walks one term's postings in seq order and probes the others by key.
CREATE TABLE statement_terms (
    tenant_id uuid NOT NULL,
    term bytea NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (tenant_id, term, seq)
);

-- Attachment contents, content-addressed per tenant and shared between statements: hash_key is the keyed pseudonym of
-- the sha2, blob an envelope under the tenant's data key (key_id). refs counts the statements that carried the content;
-- statement_attachments says which ones, so that a statement only ever returns data it carried itself.
CREATE TABLE attachments (
    tenant_id uuid NOT NULL,
    hash_key bytea NOT NULL,
    key_id bigint NOT NULL,
    blob bytea NOT NULL,
    refs bigint NOT NULL,
    PRIMARY KEY (tenant_id, hash_key)
);

CREATE TABLE statement_attachments (
    tenant_id uuid NOT NULL,
    seq bigint NOT NULL,
    hash_key bytea NOT NULL,
    PRIMARY KEY (tenant_id, seq, hash_key)
);
