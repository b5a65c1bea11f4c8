using System.CommandLine;

namespace Stratus.Client;

/// <summary>`stratus cloudpc dr failover|failback|status ID`: cross-region disaster recovery of a Cloud PC.</summary>
internal static partial class ClientCommands
{
    private static Command DisasterRecovery()
    {
        var command = new Command("dr", "Cross-region disaster recovery: fail a Cloud PC over to its backup region and back, and its status.");
        command.Subcommands.Add(ActionCommand("failover", "Make the Cloud PC again in its backup region from the latest copy of its disk, and switch to it (--wait shows progress).",
            _ => null, _ => "disasterRecoveryFailover"));
        command.Subcommands.Add(ActionCommand("failback", "Bring a failed-over Cloud PC home with its changes: stop, copy the disk to the primary region, make it there, switch.",
            _ => null, _ => "disasterRecoveryFailback"));

        var id = new Argument<Guid>("id") { Description = "The Cloud PC's id." };
        var output = OutputOption();
        var status = new Command("status", "Capability, status, latest copies per region and the failover/failback history.") { id, output };
        status.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var dr = await client.GetAsync($"/api/v1/cloudPCs/{result.GetValue(id)}/disasterRecovery", cancellationToken);
            PrintObject(result.GetValue(output)!, dr);
        }));
        command.Subcommands.Add(status);
        return command;
    }
}
