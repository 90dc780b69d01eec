-- The key store, in a schema of its own (default learnervault_keys), apart from the data schema, possibly in another
-- database under another role. It holds only wrapped keys and learner pseudonyms; the master key is never stored.
--
-- Intended grants: this schema is owned by the role that runs 'lvault migrate'; the server's role gets only
--   GRANT USAGE ON SCHEMA learnervault_keys TO <app role>;
--   GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA learnervault_keys TO <app role>;
--   GRANT USAGE ON SEQUENCE learnervault_keys.key_ids TO <app role>;
-- and the data schema's roles (readers, reporting, dump jobs) get nothing here. A data-only dump
-- (pg_dump --schema=learnervault) excludes this schema: back it up separately, and keep the master key elsewhere again.
--
-- Every table carries tenant_id (uuid) first in its key, as in the data schema.

-- Proves at open that the master key is the one this store is sealed to. One row, under the nil tenant id (the store
-- itself); a master-key rotation locks it FOR UPDATE and key-encryption-key writers FOR SHARE, so the two serialise.
CREATE TABLE master_key_check (
    tenant_id uuid PRIMARY KEY CHECK (tenant_id = '00000000-0000-0000-0000-000000000000'),
    sealed bytea NOT NULL
);

-- One id space for every key, never reused (a destroyed key's id is never given to another key). Ids are drawn before
-- the insert because a key's wrapping binds its id: the row is written complete in one statement.
CREATE SEQUENCE key_ids AS bigint;

-- purpose: 0 key-encryption key (wrapped under the master key, wrapping_key_id NULL), 1 pseudonym key,
-- 2 tenant data key, 3 learner data key (each wrapped under the tenant's key-encryption key), 4 retiring KEK (only
-- inside a rotation's transaction). The foreign key keeps a key from being written under a KEK that a rotation on
-- another node has just retired: that insert fails and is retried under the new KEK.
CREATE TABLE keys (
    tenant_id uuid NOT NULL,
    id bigint NOT NULL DEFAULT nextval('key_ids'),
    purpose smallint NOT NULL CHECK (purpose BETWEEN 0 AND 4),
    learner bytea NULL,
    wrapping_key_id bigint NULL,
    wrapped bytea NOT NULL,
    created timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- The learner pseudonym is the lookup key of a learner data key; NULLs (tenant keys) do not collide. The target of
    -- INSERT ... ON CONFLICT (tenant_id, learner) DO NOTHING, which makes concurrent creation on several nodes yield one key.
    CONSTRAINT keys_by_learner UNIQUE (tenant_id, learner),
    CONSTRAINT keys_wrapping_key FOREIGN KEY (tenant_id, wrapping_key_id) REFERENCES keys (tenant_id, id),
    CHECK ((purpose = 3) = (learner IS NOT NULL)),
    CHECK ((purpose IN (0, 4)) = (wrapping_key_id IS NULL))
);
ALTER SEQUENCE key_ids OWNED BY keys.id;

-- A tenant has one KEK, one pseudonym key and one tenant data key: the target of the tenant's ON CONFLICT DO NOTHING.
CREATE UNIQUE INDEX keys_tenant_singletons ON keys (tenant_id, purpose) WHERE purpose IN (0, 1, 2);
CREATE INDEX keys_by_wrapping_key ON keys (tenant_id, wrapping_key_id);
