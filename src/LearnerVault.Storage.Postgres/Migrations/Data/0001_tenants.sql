-- Tenants. Every other table carries tenant_id (uuid) as the first column of its key, so that the schema can be
-- distributed by tenant (Citus: SELECT create_distributed_table('<table>', 'tenant_id')) without changing a query.
CREATE TABLE tenants (
    tenant_id uuid PRIMARY KEY,
    name text NOT NULL,
    created timestamptz NOT NULL
);
