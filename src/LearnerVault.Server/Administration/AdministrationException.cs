namespace LearnerVault.Server.Administration;

/// <summary>
/// An administrative request that cannot be carried out as asked (bad scope, unknown key, uninitialised data folder).
/// Its message is written for the administrator, is one line, and never contains a secret.
/// </summary>
public sealed class AdministrationException : Exception
{
    public AdministrationException()
    {
    }

    public AdministrationException(string message)
        : base(message)
    {
    }

    public AdministrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
