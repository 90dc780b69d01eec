-- People, accounts, tokens, the identity vault (learners and their pseudonyms), guardian links, classes, consents and
-- tenant policies: what the access decision reads and the admin API manages. Nothing here is a name or a login in
-- clear: login_key and pseudonym are keyed hashes computed above storage, profile and totp_secret are envelopes the
-- server encrypts. Ids are 16-byte blobs (RFC 4122 byte order), times unix microseconds. No foreign key between these
-- tables: a store copy moves them in any order, and the PostgreSQL schema (distributable by tenant) has none either.
-- The indexes on id alone serve the lookups that must find a tenant from an id (to recognise a cross-tenant attempt).

CREATE TABLE people (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    id BLOB NOT NULL,
    roles TEXT NOT NULL,            -- JSON array of role names, in the order given
    login_key BLOB NULL,            -- keyed hash of the normalised login name
    profile BLOB NULL,              -- envelope (display name…)
    learner_id BLOB NULL,
    created INTEGER NOT NULL,
    disabled INTEGER NULL,
    PRIMARY KEY (tenant_no, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX people_by_login ON people (tenant_no, login_key) WHERE login_key IS NOT NULL;
CREATE INDEX people_by_id ON people (id);

CREATE TABLE accounts (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    person_id BLOB NOT NULL,
    password_hash TEXT NOT NULL,    -- self-describing, e.g. pbkdf2-sha256$600000$salt$hash
    failed_attempts INTEGER NOT NULL,
    locked_until INTEGER NULL,
    totp_secret BLOB NULL,          -- envelope
    totp_confirmed INTEGER NOT NULL,
    totp_last_step INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (tenant_no, person_id)
) WITHOUT ROWID;

-- Only the SHA-256 of a token is stored; a token is looked up by it alone, whatever the tenant.
CREATE TABLE auth_tokens (
    token_hash BLOB NOT NULL PRIMARY KEY,
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    person_id BLOB NOT NULL,
    kind INTEGER NOT NULL,          -- 1 session, 2 bearer
    label TEXT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    revoked INTEGER NULL
) WITHOUT ROWID;
CREATE INDEX auth_tokens_by_person ON auth_tokens (tenant_no, person_id, created);

CREATE TABLE learners (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    id BLOB NOT NULL,
    birth_year INTEGER NULL,
    age_band_min INTEGER NULL,
    age_band_max INTEGER NULL,      -- NULL with a min: an open band ("18 and over")
    restricted INTEGER NOT NULL,
    objections TEXT NOT NULL,       -- JSON array of purpose names
    created INTEGER NOT NULL,
    PRIMARY KEY (tenant_no, id)
) WITHOUT ROWID;
CREATE INDEX learners_by_id ON learners (id);

-- The identity vault proper: keyed pseudonym of an xAPI identifier -> learner. Looked up on every xAPI request.
CREATE TABLE learner_pseudonyms (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    pseudonym BLOB NOT NULL,
    learner_id BLOB NOT NULL,
    ordinal INTEGER NOT NULL,       -- position in the learner's list
    PRIMARY KEY (tenant_no, pseudonym)
) WITHOUT ROWID;
CREATE INDEX learner_pseudonyms_by_learner ON learner_pseudonyms (tenant_no, learner_id, ordinal);

CREATE TABLE guardians (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    learner_id BLOB NOT NULL,
    guardian_id BLOB NOT NULL,
    PRIMARY KEY (tenant_no, learner_id, guardian_id)
) WITHOUT ROWID;
CREATE INDEX guardians_by_guardian ON guardians (tenant_no, guardian_id, learner_id);

CREATE TABLE classes (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    id BLOB NOT NULL,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (tenant_no, id)
) WITHOUT ROWID;
CREATE INDEX classes_by_id ON classes (id);

CREATE TABLE class_members (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    class_id BLOB NOT NULL,
    learner_id BLOB NOT NULL,
    PRIMARY KEY (tenant_no, class_id, learner_id)
) WITHOUT ROWID;
CREATE INDEX class_members_by_learner ON class_members (tenant_no, learner_id, class_id);

CREATE TABLE class_teachers (
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    class_id BLOB NOT NULL,
    teacher_id BLOB NOT NULL,
    PRIMARY KEY (tenant_no, class_id, teacher_id)
) WITHOUT ROWID;
CREATE INDEX class_teachers_by_teacher ON class_teachers (tenant_no, teacher_id, class_id);

-- Append-only: a change of mind is a new row. id orders a learner's records as they were recorded.
CREATE TABLE consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_no INTEGER NOT NULL REFERENCES tenants (no),
    learner_id BLOB NOT NULL,
    purpose TEXT NOT NULL,
    choice TEXT NOT NULL,           -- given | withdrawn
    given_by TEXT NOT NULL,         -- learner | guardian
    giver_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    notice_version TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX consents_by_learner ON consents (tenant_no, learner_id, id);

-- A tenant without a row has the default policy (TenantPolicy.CreateDefault).
CREATE TABLE tenant_policies (
    tenant_no INTEGER NOT NULL PRIMARY KEY REFERENCES tenants (no),
    age_of_digital_consent INTEGER NOT NULL,
    restricted_writes TEXT NOT NULL, -- store-restricted | refuse
    bases TEXT NOT NULL              -- JSON object: purpose name -> lawful basis name
);
