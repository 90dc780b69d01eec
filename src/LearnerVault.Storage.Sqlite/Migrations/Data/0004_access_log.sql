-- The access log: one row per access decision, hash-chained per tenant (position 1, 2, … with no gap), and the signed
-- checkpoints of the chain head. Entries are plain columns so that an administrator can read who accessed what; the
-- learner appears only as the tenant-keyed pseudonym the indexes use. hash is SHA-256(previous hash || the entry's
-- canonical encoding), the previous hash of position 1 being the tenant's genesis value (see AccessLogChain).
CREATE TABLE access_log (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    position INTEGER NOT NULL,
    time INTEGER NOT NULL,          -- unix microseconds
    principal TEXT NOT NULL,        -- client:<key> or person:<id>
    client TEXT NULL,               -- the client app's key
    action TEXT NOT NULL,
    purpose TEXT NOT NULL,
    learner BLOB NULL,              -- keyed pseudonym
    records INTEGER NOT NULL,
    decision INTEGER NOT NULL,      -- 0 deny, 1 allow
    reason TEXT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (tenant_no, position)
) WITHOUT ROWID;

-- A learner's own access log (GET /api/me/access-log), newest first.
CREATE INDEX access_log_by_learner ON access_log (tenant_no, learner, position) WHERE learner IS NOT NULL;

CREATE TABLE access_log_checkpoints (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    position INTEGER NOT NULL,
    head BLOB NOT NULL,             -- the chain hash at position
    time INTEGER NOT NULL,          -- unix microseconds
    signature BLOB NOT NULL,        -- ECDSA P-256 (IEEE P1363) by the tenant's audit signing key
    PRIMARY KEY (tenant_no, position)
) WITHOUT ROWID;
