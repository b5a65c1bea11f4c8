using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Stratus.Client;

/// <summary>`stratus cloudpc troubleshoot ID`: run a Cloud PC's checks (diagnostics, issue 21) and show each with its advice.</summary>
internal static partial class ClientCommands
{
    private static Command Troubleshoot()
    {
        var id = new Argument<Guid>("id") { Description = "The Cloud PC's id." };
        var output = OutputOption();
        var command = new Command("troubleshoot", "Check the Cloud PC's record, host, VM, network connection, disk copies and restore points; fixes are offered, never applied.")
        {
            id, output,
        };
        command.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var run = await client.PostAsync($"/api/v1/cloudPCs/{result.GetValue(id)}/troubleshoot", null, cancellationToken);
            if (result.GetValue(output) == "json")
            {
                Console.WriteLine(run.ToJsonString(Indented));
                return;
            }

            PrintChecks(run);
        }));
        return command;
    }

    private static void PrintChecks(JsonNode run)
    {
        FitPipes();
        var table = new Table().Border(TableBorder.Rounded).AddColumn("check").AddColumn("status").AddColumn("message").AddColumn("advice").AddColumn("suggested action");
        foreach (var check in run["checks"]!.AsArray())
        {
            // The fix is the administrator's to apply: shown as the request that applies it.
            var action = check!["suggestedAction"] is JsonObject a ? $"{a["name"]}: {a["method"]} {a["path"]}" : "";
            table.AddRow(Markup.Escape(Cell(check["name"])), Markup.Escape(Cell(check["status"])), Markup.Escape(Cell(check["message"])),
                Markup.Escape(Cell(check["advice"])), Markup.Escape(action));
        }

        AnsiConsole.Write(table);
        Console.WriteLine($"Overall: {run["overallStatus"]} (result {run["id"]}, {run["endDateTime"]}).");
    }
}
