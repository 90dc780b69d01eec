using LearnerVault.Privacy.Access;
using LearnerVault.Server.Pipeline;
using LearnerVault.Storage;

namespace LearnerVault.Server.Access;

/// <summary>
/// Who an xAPI request acts as and for what: the client as a <see cref="Principal"/> with the purposes it declares, and
/// the purpose of this request. The services that read and write learner data take this and put every record to the
/// <see cref="IAccessGate"/> themselves.
/// </summary>
public sealed record ClientAccess(ClientRecord Client, Principal Principal, Purpose Purpose)
{
    /// <summary>The request header naming the purpose of a request; without it, the client's first declared purpose.</summary>
    public const string PurposeHeader = "X-LearnerVault-Purpose";

    /// <summary>The client's declared purposes, in the order declared (a client declaring none declares instruction).</summary>
    public static IReadOnlyList<Purpose> DeclaredPurposes(ClientRecord client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var declared = new List<Purpose>(client.Purposes.Count);
        foreach (var name in client.Purposes)
        {
            // Stored purposes were validated when the client was added; one that no longer parses declares nothing.
            if (Purpose.TryParse(name, out var purpose, out _) && !declared.Contains(purpose))
            {
                declared.Add(purpose);
            }
        }

        return declared.Count == 0 && client.Purposes.Count == 0 ? [Purpose.Instruction] : declared;
    }

    /// <summary>The purpose <paramref name="requestedPurpose"/> names when it is one the client did not declare (the
    /// refusal the access log records); null when it is declared, absent, or no purpose at all.</summary>
    public static Purpose? UndeclaredPurpose(ClientRecord client, string? requestedPurpose) =>
        !string.IsNullOrWhiteSpace(requestedPurpose)
        && Purpose.TryParse(requestedPurpose, out var purpose, out _)
        && !DeclaredPurposes(client).Contains(purpose)
            ? purpose
            : null;

    /// <summary>The client acting for its first declared purpose (ingest outside HTTP, e.g. the demo seeder).</summary>
    public static ClientAccess For(ClientRecord client) => For(client, null);

    /// <summary>The client acting for <paramref name="requestedPurpose"/> (the header's value), or its first declared purpose.</summary>
    /// <exception cref="XapiException">400 for a text that is no purpose; 403 for a purpose the client did not declare.</exception>
    public static ClientAccess For(ClientRecord client, string? requestedPurpose)
    {
        var declared = DeclaredPurposes(client);
        var principal = Principal.Client(client.TenantId, client.Key, declared);
        if (string.IsNullOrWhiteSpace(requestedPurpose))
        {
            return declared.Count > 0
                ? new ClientAccess(client, principal, declared[0])
                : throw new XapiException(403, "The client declares no valid purpose, so it may not process learner data.");
        }

        if (!Purpose.TryParse(requestedPurpose, out var purpose, out var error))
        {
            throw new XapiException(400, $"The {PurposeHeader} header is not valid: {error}.");
        }

        return declared.Contains(purpose)
            ? new ClientAccess(client, principal, purpose)
            : throw new XapiException(403, $"The client did not declare the purpose '{purpose.Name}' ({PurposeHeader}); it declares: {string.Join(", ", declared.Select(p => p.Name))}.");
    }
}
