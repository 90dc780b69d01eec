namespace LearnerVault.Server.Accounts;

/// <summary>
/// Account changes worth an operator's eye. Person ids only: never a login name, a name, a password or a token.
/// </summary>
public static partial class AccountTrace
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Person {PersonId} changed their password; their other tokens were revoked.")]
    public static partial void PasswordChanged(this ILogger logger, Guid personId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Person {AdminId} reset the password of person {PersonId}; lockout cleared, tokens revoked.")]
    public static partial void PasswordReset(this ILogger logger, Guid adminId, Guid personId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Person {AdminId} removed the TOTP second factor of person {PersonId}; tokens revoked.")]
    public static partial void TotpRemoved(this ILogger logger, Guid adminId, Guid personId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} expired or revoked authentication tokens.")]
    public static partial void TokensPurged(this ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expired authentication tokens could not be purged ({Error}); retried at the next interval.")]
    public static partial void PurgeFailed(this ILogger logger, string error);
}
