-- Clients: an app's credentials within a tenant. The secret is never stored, only its hash. Authentication looks a
-- client up by its key alone, so the key is unique across the installation, not only within a tenant. Clients are few
-- and read on every request: under Citus this table (with tenants) becomes a reference table, where a unique key that
-- does not include tenant_id is allowed.
CREATE TABLE clients (
    tenant_id uuid NOT NULL REFERENCES tenants (tenant_id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    name text NOT NULL,
    key text NOT NULL,
    secret_hash bytea NOT NULL,
    scopes text[] NOT NULL,
    purposes text[] NOT NULL,
    created timestamptz NOT NULL,
    revoked timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT clients_key_unique UNIQUE (key)
);
