-- The key store file, kept apart from the data file. It holds only wrapped keys and learner pseudonyms.
-- Times are unix microseconds (UTC); tenant ids are 16-byte blobs in RFC 4122 byte order.

-- Proves at open that the master key is the one this store was created with.
CREATE TABLE master_key_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed BLOB NOT NULL
);

-- One id space for every key (AUTOINCREMENT: a destroyed key's id is never given to another key).
-- purpose: 0 key-encryption key (wrapped under the master key, wrapping_key_id NULL), 1 pseudonym key,
-- 2 tenant data key, 3 learner data key (each wrapped under the tenant's key-encryption key), 4 retiring KEK.
CREATE TABLE keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BLOB NOT NULL,
    purpose INTEGER NOT NULL,
    learner BLOB NULL,
    wrapping_key_id INTEGER NULL REFERENCES keys (id),
    wrapped BLOB NOT NULL,
    created INTEGER NOT NULL
);
CREATE UNIQUE INDEX keys_tenant_singletons ON keys (tenant_id, purpose) WHERE purpose IN (0, 1, 2);
CREATE UNIQUE INDEX keys_by_learner ON keys (tenant_id, learner) WHERE learner IS NOT NULL;
CREATE INDEX keys_by_wrapping_key ON keys (wrapping_key_id);
