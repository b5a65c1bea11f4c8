using System.CommandLine;
using Stratus;

var root = new RootCommand("Stratus: self-hosted Cloud PCs. One binary runs every service, or any subset of them.")
{
    ServerCommands.Up(),
    ServerCommands.Run(),
    ServerCommands.Version(),
    HostCommand.Create(),
};
foreach (var command in Stratus.Client.ClientCommands.Create())
{
    root.Subcommands.Add(command);
}

return await Cli.InvokeAsync(root, args);
