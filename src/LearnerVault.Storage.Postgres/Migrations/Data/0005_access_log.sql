-- The access log: one row per access decision, hash-chained per tenant (position 1, 2, … with no gap), and the signed
-- checkpoints of the chain head. Entries are plain columns so that an administrator can read who accessed what; the
-- learner appears only as the tenant-keyed pseudonym the indexes use. hash is SHA-256(previous hash || the entry's
-- canonical encoding), the previous hash of position 1 being the tenant's genesis value (see AccessLogChain). Appends
-- to one tenant are serialised by a transaction-scoped advisory lock on the tenant, so several nodes make one chain.
CREATE TABLE access_log (
    tenant_id uuid NOT NULL,
    position bigint NOT NULL,
    time timestamptz NOT NULL,
    principal text NOT NULL,        -- client:<key> or person:<id>
    client text NULL,               -- the client app's key
    action text NOT NULL,
    purpose text NOT NULL,
    learner bytea NULL,             -- keyed pseudonym
    records bigint NOT NULL,
    decision smallint NOT NULL,     -- 0 deny, 1 allow
    reason text NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (tenant_id, position)
);

-- A learner's own access log (GET /api/me/access-log), newest first.
CREATE INDEX access_log_by_learner ON access_log (tenant_id, learner, position) WHERE learner IS NOT NULL;

CREATE TABLE access_log_checkpoints (
    tenant_id uuid NOT NULL,
    position bigint NOT NULL,
    head bytea NOT NULL,            -- the chain hash at position
    time timestamptz NOT NULL,
    signature bytea NOT NULL,       -- ECDSA P-256 (IEEE P1363) by the tenant's audit signing key
    PRIMARY KEY (tenant_id, position)
);
