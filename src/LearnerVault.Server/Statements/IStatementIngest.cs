using System.Text.Json;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Statements;

/// <summary>The one path by which statements enter the store: validate, prepare, pseudonymise, encrypt, write.</summary>
public interface IStatementIngest
{
    /// <summary>Stores a batch all-or-nothing for the client's tenant and returns the statement ids in order.</summary>
    /// <exception cref="StatementRejectedException">A statement is invalid (400) or conflicts with a stored one (409).</exception>
    Task<IReadOnlyList<Guid>> IngestAsync(ClientRecord client, IReadOnlyList<JsonElement> statements, XapiVersion version, CancellationToken cancellationToken = default);
}

public sealed class StatementRejectedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
