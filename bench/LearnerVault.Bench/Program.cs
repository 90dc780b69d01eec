using LearnerVault.Bench;

return await BenchRunner.RunAsync(args);
