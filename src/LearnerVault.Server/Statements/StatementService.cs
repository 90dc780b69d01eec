using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Server.Activities;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Statements;

/// <summary>
/// Statements in and out: validation, preparation, the access gate, pseudonymous index terms and envelope encryption on
/// the way in; the access gate, decryption, the stored/timestamp properties and the requested format on the way out.
/// Every statement read or written here is put to <see cref="IAccessGate"/> first: there is no path around it.
/// </summary>
public sealed class StatementService(
    IStatementStore store, IKeyStore keys, TenantCrypto crypto, ServerOptions options, ActivityDefinitionService definitions, IAccessGate gate, AccessLog accessLog)
    : IStatementIngest
{
    /// <summary>Attachment data in (checked, sealed, written with the statements) and out.</summary>
    public StatementAttachments Attachments { get; } = new(store, keys, crypto);

    /// <summary>Ingest outside HTTP (the demo seeder): the client acting for its first declared purpose.</summary>
    public Task<IReadOnlyList<Guid>> IngestAsync(ClientRecord client, IReadOnlyList<JsonElement> statements, XapiVersion version, CancellationToken cancellationToken = default) =>
        IngestAsync(ClientAccess.For(client), statements, version, null, null, cancellationToken);

    /// <param name="putId">For PUT: the statementId parameter, which the statement's own id (if any) must equal.</param>
    /// <param name="parts">The attachment parts of a multipart/mixed request; null for application/json.</param>
    /// <exception cref="StatementRejectedException">Invalid (400), too many (413), denied by the access gate (403: nothing
    /// of the batch is stored), or conflicting with a stored statement (409).</exception>
    public async Task<IReadOnlyList<Guid>> IngestAsync(ClientAccess access, IReadOnlyList<JsonElement> statements, XapiVersion version, Guid? putId, AttachmentParts? parts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        var client = access.Client;
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
        var facts = new StatementFacts[statements.Count];
        var learners = new byte[]?[statements.Count];
        var seen = new HashSet<Guid>();
        for (var i = 0; i < statements.Count; i++)
        {
            var validation = StatementValidator.Validate(statements[i], version);
            if (!validation.IsValid)
            {
                var where = statements.Count > 1 ? $"Statement {i}: " : string.Empty;
                throw new StatementRejectedException(400, where + validation.Error);
            }

            // The prepared statement itself is written (in Seal) straight from the request's document.
            var id = StatementPreparer.PreparedId(statements[i], putId ?? Guid.NewGuid());
            if (putId is { } expected && id != expected)
            {
                throw new StatementRejectedException(400, "The statement's id differs from the statementId parameter.");
            }

            if (!seen.Add(id))
            {
                throw new StatementRejectedException(400, "The batch contains the same statement id twice.");
            }

            ids[i] = id;
            // Facts and (in Seal) the comparison form are read from the parsed statement too: equal by construction to
            // what the prepared statement would give.
            facts[i] = StatementFactsExtractor.Extract(statements[i], authority);
            learners[i] = facts[i].LearnerIfi is { } ifi ? crypto.LearnerPseudonym(client.TenantId, ifi) : null;
        }

        // After validation, before anything is stored (learner keys included): the decision for every learner of the
        // batch. One denial refuses the whole batch, as any other error does, and is logged at once; allowed, the entries
        // are appended by the write itself (one durable commit for both on SQLite), never after it.
        var decided = await gate.DecideWriteAsync(access.Principal, AccessAction.StatementsWrite, access.Purpose, learners, cancellationToken);
        var outcome = decided.Outcome;
        if (outcome.FirstDenial is { } denial)
        {
            var at = outcome.Decisions.ToList().IndexOf(denial);
            var where = statements.Count > 1 ? $"Statement {at}: " : string.Empty;
            throw new StatementRejectedException(403,
                $"{where}the access decision refused to store this learner's data for the purpose '{access.Purpose.Name}' ({denial.ReasonCode}); nothing was stored.");
        }

        // All learner keys of the batch at once: new learners cost one durable key-store write per batch.
        var learnerKeys = LearnerKeys(client.TenantId, learners);
        for (var i = 0; i < facts.Length; i++)
        {
            records[i] = Seal(client, statements[i], version, authority, facts[i], ids[i], learnerKeys[i] ?? keys.GetTenantDataKey(client.TenantId)) with
            {
                Learner = learners[i],
                // Kept (the sending app does not fail) but never processed further: no client ever reads it back.
                Restricted = outcome.Decisions[i].StoreRestricted,
            };
        }

        Attachments.Attach(client.TenantId, statements, records, parts);
        StatementWrite written;
        try
        {
            written = await store.WriteAsync(client.TenantId, records, decided.Entries, cancellationToken);
        }
        catch (StatementConflictException)
        {
            throw new StatementRejectedException(409, "A statement with the same id but different content is already stored.");
        }
        catch (AccessLogAppendException exception)
        {
            // Nothing was stored: the write could not be traced, so it did not happen (answered 503).
            throw new AccessLogUnavailableException("The access log could not be written.", exception);
        }

        // The statements are stored: a client gone by now does not cancel the checkpoint that may be due.
        await accessLog.CheckpointIfDueAsync(client.TenantId, written.AccessLogHead, CancellationToken.None);

        // After the write, never before: only stored statements may define activities (Activities resource).
        await definitions.RecordAsync(client, statements);
        return ids;
    }

    /// <summary>
    /// One statement by id (<paramref name="voided"/>: asked for as voidedStatementId), opened, if the client may read it:
    /// not found, of another client under statements/read/mine, denied by the access gate, stored restricted, or erased
    /// all answer null alike, so a 404 never tells which.
    /// </summary>
    public async Task<OpenedStatement?> GetAsync(ClientAccess access, Guid id, bool voided, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        var tenant = access.Client.TenantId;
        var stored = await store.GetAsync(tenant, id, cancellationToken);
        if (stored is null || stored.Voided != voided || (OnlyOwn(access) && stored.ClientId != access.Client.Id))
        {
            return null;
        }

        var outcome = await gate.DecideRecordsAsync(
            access.Principal, AccessAction.StatementsRead, access.Purpose, [new GateRecord(stored.Learner, stored.Restricted)], cancellationToken);
        return outcome.AllAllowed && Open(tenant, stored) is { } statement ? new OpenedStatement(stored, statement) : null;
    }

    /// <summary>
    /// A page of a statement query, opened: the statements the access gate allows, in order. Withheld ones are left out,
    /// so a page may be shorter than the limit while <see cref="OpenedPage.ContinueAfter"/> still leads on.
    /// </summary>
    public async Task<OpenedPage> QueryAsync(ClientAccess access, StatementQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(query);
        var tenant = access.Client.TenantId;
        var page = await store.QueryAsync(tenant, OnlyOwn(access) ? query with { ClientId = access.Client.Id } : query, cancellationToken);
        if (page.Statements.Count == 0)
        {
            return new OpenedPage([], page.ContinueAfter);
        }

        var outcome = await gate.DecideRecordsAsync(
            access.Principal,
            AccessAction.StatementsRead,
            access.Purpose,
            [.. page.Statements.Select(s => new GateRecord(s.Learner, s.Restricted))],
            cancellationToken);
        var opened = new List<OpenedStatement>(page.Statements.Count);
        for (var i = 0; i < page.Statements.Count; i++)
        {
            if (outcome.Decisions[i].Allowed && Open(tenant, page.Statements[i]) is { } statement)
            {
                opened.Add(new OpenedStatement(page.Statements[i], statement));
            }
        }

        return new OpenedPage(opened, page.ContinueAfter);
    }

    /// <summary>
    /// Whether the client may read what the LRS knows about an agent (the Agents resource): a read of that learner's
    /// statements, decided and logged as such.
    /// </summary>
    public async Task<bool> MayReadAgentAsync(ClientAccess access, string normalisedIfi, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        var outcome = await gate.DecideRecordsAsync(
            access.Principal,
            AccessAction.StatementsRead,
            access.Purpose,
            [crypto.LearnerPseudonym(access.Client.TenantId, normalisedIfi)],
            cancellationToken);
        return outcome.AllAllowed;
    }

    private static bool OnlyOwn(ClientAccess access) => !Scopes.CanReadAllStatements(access.Client);

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

    /// <summary>The data key of each statement's learner (by pseudonym), or null for a statement that describes no
    /// identifiable learner.</summary>
    private DataKey?[] LearnerKeys(Guid tenant, byte[]?[] learners)
    {
        var result = new DataKey?[learners.Length];
        var pseudonyms = new List<byte[]>(learners.Length);
        var positions = new List<int>(learners.Length);
        for (var i = 0; i < learners.Length; i++)
        {
            if (learners[i] is { } learner)
            {
                pseudonyms.Add(learner);
                positions.Add(i);
            }
        }

        if (pseudonyms.Count > 0)
        {
            var found = keys.GetOrCreateLearnerKeys(tenant, pseudonyms);
            for (var j = 0; j < positions.Count; j++)
            {
                result[positions[j]] = found[j];
            }
        }

        return result;
    }

    private const int MaxSealBufferBytes = 256 * 1024;

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? sealBuffers;

    private StatementRecord Seal(ClientRecord client, JsonElement sent, XapiVersion version, JsonObject authority, StatementFacts facts, Guid id, DataKey key)
    {
        var tenant = client.TenantId;

        // The plaintext and the comparison form are written into this thread's buffers, used and wiped: a statement's
        // worth of personal data is not left for the collector (and not allocated twice per statement).
        var (buffer, writer) = sealBuffers ??= (new ArrayBufferWriter<byte>(4096), new Utf8JsonWriter(Stream.Null));
        byte[] blob;
        byte[] contentHash;
        try
        {
            writer.Reset(buffer);
            // The id given is the prepared id, so it is also the one a statement without its own gets.
            StatementPreparer.WritePrepared(sent, version, authority, id, writer);
            writer.Flush();
            blob = EnvelopeCipher.Encrypt(key.Key, buffer.WrittenSpan, EnvelopeCipher.AssociatedData(tenant, id));
            buffer.Clear();
            StatementComparison.WriteComparisonForm(sent, buffer);
            contentHash = crypto.For(tenant).Digest(buffer.WrittenSpan);
        }
        finally
        {
            buffer.Clear();
            writer.Reset(Stream.Null);
        }

        if (buffer.Capacity > MaxSealBufferBytes)
        {
            // An unusually large statement: do not keep its buffer for the thread's lifetime.
            sealBuffers = null;
        }

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

        return new StatementRecord(id, key.Id, blob, contentHash, terms, facts.RefTarget, facts.IsVoiding, client.Id, facts.HasTimestamp);
    }

    private void AddTerms(List<IndexTerm> terms, Guid tenant, TermKind kind, IReadOnlyList<string> values)
    {
        if (values.Count > 16)
        {
            foreach (var value in values.Distinct(StringComparer.Ordinal))
            {
                terms.Add(crypto.Term(tenant, kind, value));
            }

            return;
        }

        // A statement's agents or related activities are few: a scan of the earlier values beats building a hash set.
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];
            var repeated = false;
            for (var j = 0; j < i && !repeated; j++)
            {
                repeated = string.Equals(values[j], value, StringComparison.Ordinal);
            }

            if (!repeated)
            {
                terms.Add(crypto.Term(tenant, kind, value));
            }
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

/// <summary>A statement read back and decrypted (without format applied).</summary>
public sealed record OpenedStatement(StoredStatement Stored, JsonObject Statement);

/// <summary>The statements of a query page the client may read, and where the query continues (null: no more).</summary>
public sealed record OpenedPage(IReadOnlyList<OpenedStatement> Statements, long? ContinueAfter);

/// <summary>Normal forms of searchable values shared by ingest and query.</summary>
public static class TermValues
{
    public static string Registration(Guid registration) => registration.ToString("D");
}
