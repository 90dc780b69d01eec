using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy;
using LearnerVault.Server.Activities;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Statements;

/// <summary>
/// Statements in and out: validation, preparation, pseudonymous index terms and envelope encryption on the
/// way in; decryption, the stored/timestamp properties and the requested format on the way out.
/// </summary>
public sealed class StatementService(IStatementStore store, IKeyStore keys, TenantCrypto crypto, ServerOptions options, ActivityDefinitionService definitions) : IStatementIngest
{
    /// <summary>Attachment data in (checked, sealed, written with the statements) and out.</summary>
    public StatementAttachments Attachments { get; } = new(store, keys, crypto);

    public Task<IReadOnlyList<Guid>> IngestAsync(ClientRecord client, IReadOnlyList<JsonElement> statements, XapiVersion version, CancellationToken cancellationToken = default) =>
        IngestAsync(client, statements, version, null, null, cancellationToken);

    /// <param name="putId">For PUT: the statementId parameter, which the statement's own id (if any) must equal.</param>
    /// <param name="parts">The attachment parts of a multipart/mixed request; null for application/json.</param>
    public async Task<IReadOnlyList<Guid>> IngestAsync(ClientRecord client, IReadOnlyList<JsonElement> statements, XapiVersion version, Guid? putId, AttachmentParts? parts, CancellationToken cancellationToken)
    {
        if (statements.Count == 0)
        {
            throw new StatementRejectedException(400, "The request contains no statement.");
        }

        if (statements.Count > options.MaxBatchSize)
        {
            throw new StatementRejectedException(413, $"A batch may hold at most {options.MaxBatchSize} statements.");
        }

        var authority = Authority(client);
        var records = new StatementRecord[statements.Count];
        var ids = new Guid[statements.Count];
        var prepared = new (JsonObject Statement, StatementFacts Facts)[statements.Count];
        var seen = new HashSet<Guid>();
        for (var i = 0; i < statements.Count; i++)
        {
            var validation = StatementValidator.Validate(statements[i], version);
            if (!validation.IsValid)
            {
                var where = statements.Count > 1 ? $"Statement {i}: " : string.Empty;
                throw new StatementRejectedException(400, where + validation.Error);
            }

            var statement = StatementPreparer.Prepare(statements[i], version, (JsonObject)authority.DeepClone(), putId ?? Guid.NewGuid());
            var id = Guid.Parse(statement["id"]!.GetValue<string>());
            if (putId is { } expected && id != expected)
            {
                throw new StatementRejectedException(400, "The statement's id differs from the statementId parameter.");
            }

            if (!seen.Add(id))
            {
                throw new StatementRejectedException(400, "The batch contains the same statement id twice.");
            }

            ids[i] = id;
            prepared[i] = (statement, StatementFactsExtractor.Extract(statement));
        }

        // All learner keys of the batch at once: new learners cost one durable key-store write per batch.
        var learners = LearnerKeys(client.TenantId, prepared);
        for (var i = 0; i < prepared.Length; i++)
        {
            var (key, learner) = learners[i];
            records[i] = Seal(client, prepared[i].Statement, prepared[i].Facts, ids[i], key ?? keys.GetTenantDataKey(client.TenantId), learner);
        }

        Attachments.Attach(client.TenantId, statements, records, parts);
        try
        {
            await store.WriteAsync(client.TenantId, records, cancellationToken);
        }
        catch (StatementConflictException)
        {
            throw new StatementRejectedException(409, "A statement with the same id but different content is already stored.");
        }

        // After the write, never before: only stored statements may define activities (Activities resource).
        await definitions.RecordAsync(client, statements);
        return ids;
    }

    /// <summary>Decrypts a stored statement and adds what the LRS reports: stored, and timestamp when the client sent none.</summary>
    /// <returns>Null when the statement's key was destroyed (the learner was erased).</returns>
    public JsonObject? Open(Guid tenantId, StoredStatement stored)
    {
        var key = keys.GetDataKey(tenantId, stored.KeyId);
        if (key is null)
        {
            return null;
        }

        var plaintext = EnvelopeCipher.Decrypt(key.Key, stored.Blob, EnvelopeCipher.AssociatedData(tenantId, stored.Id));
        var statement = JsonNode.Parse(plaintext)!.AsObject();
        var storedText = Pipeline.XapiTime.Format(stored.Stored);
        if (!stored.HasTimestamp)
        {
            statement["timestamp"] = storedText;
        }

        statement["stored"] = storedText;
        return statement;
    }

    /// <summary>The data key and pseudonym of each statement's learner, or nulls for a statement that describes no
    /// identifiable learner.</summary>
    private (DataKey? Key, byte[]? Learner)[] LearnerKeys(Guid tenant, (JsonObject Statement, StatementFacts Facts)[] prepared)
    {
        var result = new (DataKey? Key, byte[]? Learner)[prepared.Length];
        var pseudonyms = new List<byte[]>(prepared.Length);
        var positions = new List<int>(prepared.Length);
        for (var i = 0; i < prepared.Length; i++)
        {
            if (prepared[i].Facts.LearnerIfi is { } learner)
            {
                pseudonyms.Add(crypto.LearnerPseudonym(tenant, learner));
                positions.Add(i);
            }
        }

        if (pseudonyms.Count > 0)
        {
            var found = keys.GetOrCreateLearnerKeys(tenant, pseudonyms);
            for (var j = 0; j < positions.Count; j++)
            {
                result[positions[j]] = (found[j], pseudonyms[j]);
            }
        }

        return result;
    }

    private StatementRecord Seal(ClientRecord client, JsonObject prepared, StatementFacts facts, Guid id, DataKey key, byte[]? learner)
    {
        var tenant = client.TenantId;

        var plaintext = JsonSerializer.SerializeToUtf8Bytes(prepared);
        var blob = EnvelopeCipher.Encrypt(key.Key, plaintext, EnvelopeCipher.AssociatedData(tenant, id));
        var contentHash = crypto.For(tenant).Digest(StatementComparison.ComparisonForm(prepared));

        var terms = new List<IndexTerm>(8);
        AddTerms(terms, tenant, TermKind.Agent, facts.Agents);
        AddTerms(terms, tenant, TermKind.RelatedAgent, facts.RelatedAgents);
        terms.Add(crypto.Term(tenant, TermKind.Verb, facts.VerbId));
        if (facts.ActivityId is { } activity)
        {
            terms.Add(crypto.Term(tenant, TermKind.Activity, activity));
        }

        AddTerms(terms, tenant, TermKind.RelatedActivity, facts.RelatedActivities);
        if (facts.Registration is { } registration)
        {
            terms.Add(crypto.Term(tenant, TermKind.Registration, TermValues.Registration(registration)));
        }

        // The learner's pseudonym is stored beside the ciphertext so that a read can apply that learner's consents and
        // restrictions without decrypting anything.
        return new StatementRecord(id, key.Id, blob, contentHash, terms, facts.RefTarget, facts.IsVoiding, client.Id, facts.HasTimestamp)
        {
            Learner = learner,
        };
    }

    private void AddTerms(List<IndexTerm> terms, Guid tenant, TermKind kind, IReadOnlyList<string> values)
    {
        foreach (var value in values.Distinct(StringComparer.Ordinal))
        {
            terms.Add(crypto.Term(tenant, kind, value));
        }
    }

    /// <summary>The authority the LRS records for a client's statements: an account naming the client key.</summary>
    public static JsonObject Authority(ClientRecord client) => new()
    {
        ["objectType"] = "Agent",
        ["name"] = client.Name,
        ["account"] = new JsonObject
        {
            ["homePage"] = "urn:learnervault:client",
            ["name"] = client.Key,
        },
    };
}

/// <summary>Normal forms of searchable values shared by ingest and query.</summary>
public static class TermValues
{
    public static string Registration(Guid registration) => registration.ToString("D");
}
