using ZkPow.Cli;

return await CliApp.RunAsync(args);
