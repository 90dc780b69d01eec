-- The data file: tenants, clients, statements and their index terms.
-- Times are unix microseconds (UTC). Ids are 16-byte blobs in RFC 4122 (big-endian) byte order.

-- A tenant's row number (no) is the compact tenant key that every other table carries.
-- name is NULL for a tenant that storage has seen (statements written) but that was never registered.
CREATE TABLE tenants (
    no INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    name TEXT NULL,
    created INTEGER NULL
);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    name TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,
    scopes TEXT NOT NULL,   -- JSON array of strings
    purposes TEXT NOT NULL, -- JSON array of strings
    created INTEGER NOT NULL,
    revoked INTEGER NULL
);
CREATE INDEX clients_by_tenant ON clients (tenant_no, id);

-- seq is the stored time itself (unix microseconds), strictly increasing: stored order is sequence order, and
-- since/until are ranges on the primary key. A write appends here and nothing else (bar the rare voiding update):
-- the id index and the postings of recent statements are held in memory and merged into the tables below in bulk
-- (see RecentIndex), because random-key B-tree inserts cost a whole WAL page each.
-- terms holds the statement's own and inherited index terms (17 bytes each): the source of its postings, and what a
-- statement referring to this one inherits.
CREATE TABLE statements (
    seq INTEGER PRIMARY KEY,
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    id BLOB NOT NULL,
    key_id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    blob BLOB NOT NULL,
    content_hash BLOB NOT NULL,
    terms BLOB NOT NULL,
    ref_target BLOB NULL,
    is_voiding INTEGER NOT NULL,
    voided INTEGER NOT NULL,
    has_timestamp INTEGER NOT NULL
);
CREATE INDEX statements_by_tenant ON statements (tenant_no, seq);
CREATE INDEX statements_by_ref_target ON statements (tenant_no, ref_target) WHERE ref_target IS NOT NULL;

-- Each bulk merge makes one segment: the statements with first_seq <= seq <= last_seq. Statements after the last
-- segment are the recent ones, indexed in memory and rebuilt from this table at open.
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    size INTEGER NOT NULL
);

-- Statement ids of merged segments (the unique (tenant, id) is enforced by the writer, which also sees recent ids).
CREATE TABLE statement_ids (
    tenant_no INTEGER NOT NULL,
    id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_no, id)
) WITHOUT ROWID;

-- Postings of merged segments: term = kind byte then the 16-byte keyed hash (kind 255: the writing client, not
-- inherited). The segment leads the key, so a merge appends whole new pages instead of touching old ones.
CREATE TABLE statement_terms (
    segment INTEGER NOT NULL,
    tenant_no INTEGER NOT NULL,
    term BLOB NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (segment, tenant_no, term, seq)
) WITHOUT ROWID;

-- How many merged postings each term has: lets a query drive from its most selective term without counting.
CREATE TABLE term_counts (
    tenant_no INTEGER NOT NULL,
    term BLOB NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (tenant_no, term)
) WITHOUT ROWID;
