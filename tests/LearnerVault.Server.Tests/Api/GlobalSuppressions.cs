// The admin-API tests make many short requests to a local server; threading the test's token through each one adds
// noise, and a cancelled run stops the server (and so every request) anyway.
[assembly: System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "xUnit1051", Justification = "see above", Scope = "namespaceanddescendants", Target = "~N:LearnerVault.Server.Tests.Api")]
