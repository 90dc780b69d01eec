-- The document resources (State, Activity Profile, Agent Profile) and the canonical activity definitions.
-- Every identifying part of an address is a 16-byte keyed term computed above storage (activity id, agent IFI,
-- registration, document id); a part a kind does not have is the empty blob. Content, its media type and the plaintext
-- document id (which a GET without an id must list) exist here only as AES-256-GCM envelopes.

CREATE TABLE documents (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    kind INTEGER NOT NULL,          -- 1 state, 2 activity profile, 3 agent profile
    activity BLOB NOT NULL,
    agent BLOB NOT NULL,
    registration BLOB NOT NULL,
    doc BLOB NOT NULL,
    key_id INTEGER NOT NULL,        -- the data key of blob and id_blob
    blob BLOB NOT NULL,
    id_blob BLOB NOT NULL,
    etag BLOB NOT NULL,             -- keyed form of the entity tag, compared by If-Match / If-None-Match
    updated INTEGER NOT NULL,       -- unix microseconds
    PRIMARY KEY (tenant_no, kind, activity, agent, registration, doc)
) WITHOUT ROWID;

-- A learner's documents across activities (erasure, access requests).
CREATE INDEX documents_by_agent ON documents (tenant_no, agent) WHERE length(agent) > 0;

CREATE TABLE activity_definitions (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    activity BLOB NOT NULL,
    key_id INTEGER NOT NULL,
    blob BLOB NOT NULL,
    version INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (tenant_no, activity)
) WITHOUT ROWID;
