-- The document resources (State, Activity Profile, Agent Profile) and the canonical activity definitions.
-- Every identifying part of an address is a 16-byte keyed term computed above storage (activity id, agent IFI,
-- registration, document id); a part a kind does not have is the empty bytea, so "no registration" is a value of its
-- own and can sit in the primary key. Content, its media type and the plaintext document id (which a GET without an id
-- must list) exist here only as AES-256-GCM envelopes. No foreign key to tenants: storage may see a tenant (through
-- its documents) before or without it being registered, and a distributed table cannot reference a local one.

CREATE TABLE documents (
    tenant_id uuid NOT NULL,
    kind smallint NOT NULL,         -- 1 state, 2 activity profile, 3 agent profile
    activity bytea NOT NULL,
    agent bytea NOT NULL,
    registration bytea NOT NULL,
    doc bytea NOT NULL,
    key_id bigint NOT NULL,         -- the data key of blob and id_blob
    blob bytea NOT NULL,
    id_blob bytea NOT NULL,
    etag bytea NOT NULL,            -- keyed form of the entity tag, compared by If-Match / If-None-Match
    updated timestamptz NOT NULL,   -- strictly increasing per document (microseconds)
    PRIMARY KEY (tenant_id, kind, activity, agent, registration, doc)
);

-- A learner's documents across activities (erasure, access requests).
CREATE INDEX documents_by_agent ON documents (tenant_id, agent) WHERE length(agent) > 0;

CREATE TABLE activity_definitions (
    tenant_id uuid NOT NULL,
    activity bytea NOT NULL,
    key_id bigint NOT NULL,
    blob bytea NOT NULL,
    version bigint NOT NULL,        -- 1 on first write, +1 on every compare-and-swap
    updated timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, activity)
);
