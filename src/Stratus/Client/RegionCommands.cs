using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Stratus.Client;

/// <summary>
/// `stratus region status` and `stratus region switchover --to REGION [--wait]`: the front door's decision, from a
/// session signed in at the front door (`stratus login --url FRONT-DOOR`) as the platform operator.
/// </summary>
internal static partial class ClientCommands
{
    private const string RegionsPath = "/frontdoor/v1/regions";

    /// <summary>A switchover waits at least a lease (10 s by default) and one probe round; this is generous above that.</summary>
    private static readonly TimeSpan SwitchoverWaitLimit = TimeSpan.FromMinutes(5);

    private static Command Region()
    {
        var command = new Command("region", "The regions behind the front door: which is writable, and a planned switchover.");
        var output = OutputOption();
        var status = new Command("status", "Each region's health, the writable region and its epoch, the last failover or switchover.") { output };
        status.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var regions = await client.GetAsync(RegionsPath, cancellationToken);
            if (result.GetValue(output) == "json")
            {
                Console.WriteLine(regions.ToJsonString(Indented));
                return;
            }

            PrintRegions(regions);
        }));

        var to = new Option<string>("--to") { Description = "The region to make writable.", Required = true };
        var wait = new Option<bool>("--wait") { Description = "Wait until the region is writable, printing each step." };
        var switchover = new Command("switchover", "Stop granting the writable region, wait for its lease to run out, then make --to writable.") { to, wait };
        switchover.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            var target = result.GetValue(to)!;
            using var client = ApiClient.SignedIn();
            var answer = await client.PostAsync("/frontdoor/v1/switchover", new { region = target }, cancellationToken);
            if (IsWritable(answer, target))
            {
                Console.WriteLine($"Region {target} is writable (epoch {answer["epoch"]}).");
                return;
            }

            Console.WriteLine($"Switching to region {target}: {answer["pending"]?["from"]} gets no further lease; {target} becomes writable once its last lease ran out.");
            if (result.GetValue(wait))
            {
                await WaitForWritableAsync(client, target, cancellationToken);
            }
        }));

        command.Subcommands.Add(status);
        command.Subcommands.Add(switchover);
        return command;
    }

    private static async Task WaitForWritableAsync(ApiClient client, string target, CancellationToken cancellationToken)
    {
        var deadline = TimeProvider.System.GetUtcNow() + SwitchoverWaitLimit;
        string? said = null;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var regions = await client.GetAsync(RegionsPath, cancellationToken);
            if (IsWritable(regions, target))
            {
                Console.WriteLine($"Region {target} is writable at epoch {regions["epoch"]} ({regions["lastChange"]?["reason"]}).");
                return;
            }

            var lease = regions["regions"]?.AsArray().FirstOrDefault(r => r?["name"]?.GetValue<string>() == regions["pending"]?["from"]?.GetValue<string>())?["lastWritableLeaseUntil"];
            var step = regions["pending"] is null
                ? $"no switch under way; {regions["writableRegion"]} is writable"
                : $"waiting for the last lease of {regions["pending"]!["from"]} to run out (at {lease?.ToString() ?? "one lease after the front door started"})";
            if (step != said)
            {
                Console.WriteLine($"  {step}");
                said = step;
            }

            if (regions["pending"] is null)
            {
                throw new ClientException($"the switch to {target} is no longer under way and {regions["writableRegion"]} is writable: see 'stratus region status'.");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        throw new ClientException($"region {target} was not writable after {SwitchoverWaitLimit.TotalMinutes:0} minutes: see 'stratus region status'.");
    }

    private static bool IsWritable(JsonNode regions, string region) =>
        regions["pending"] is null && string.Equals(regions["writableRegion"]?.GetValue<string>(), region, StringComparison.OrdinalIgnoreCase);

    private static void PrintRegions(JsonNode regions)
    {
        FitPipes();
        Console.WriteLine($"Writable region: {regions["writableRegion"]} (epoch {regions["epoch"]}); reads prefer {regions["preferredReadRegion"]?.ToString() ?? "the writable region"}.");
        if (regions["pending"] is { } pending)
        {
            Console.WriteLine($"Switch under way: {pending["from"]} -> {pending["to"]} ({pending["reason"]}).");
        }

        if (regions["lastChange"] is { } last)
        {
            Console.WriteLine($"Last change: {last["from"]} -> {last["to"]} at {last["at"]}, epoch {last["epoch"]} ({last["reason"]}).");
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("region").AddColumn("healthy").AddColumn("writable").AddColumn("last seen").AddColumn("instances");
        foreach (var region in regions["regions"]?.AsArray() ?? [])
        {
            var instances = region?["instances"]?.AsArray().Select(i => $"{i?["url"]} {((bool?)i?["healthy"] == true ? "up" : $"down: {i?["lastError"]}")}") ?? [];
            table.AddRow(Cell(region?["name"]), Cell(region?["healthy"]), Cell(region?["writable"]), Cell(region?["lastSeen"]), string.Join("\n", instances.Select(Markup.Escape)));
        }

        AnsiConsole.Write(table);
    }
}
