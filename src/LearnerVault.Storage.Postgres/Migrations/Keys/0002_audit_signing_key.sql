-- Purpose 5: the tenant's audit signing key, an ECDSA P-256 private key (PKCS#8) that signs the access log's checkpoints,
-- wrapped under the tenant's key-encryption key like the pseudonym and tenant data keys, and one per tenant like them
-- (the target of the tenant keys' ON CONFLICT DO NOTHING, so two nodes creating it at once end with one).
ALTER TABLE keys DROP CONSTRAINT keys_purpose_check;
ALTER TABLE keys ADD CONSTRAINT keys_purpose_check CHECK (purpose BETWEEN 0 AND 5);
DROP INDEX keys_tenant_singletons;
CREATE UNIQUE INDEX keys_tenant_singletons ON keys (tenant_id, purpose) WHERE purpose IN (0, 1, 2, 5);
