return await LearnerVault.Cli.Lvault.RunAsync(args);
