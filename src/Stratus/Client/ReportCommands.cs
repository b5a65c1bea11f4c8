using System.CommandLine;

namespace Stratus.Client;

/// <summary>
/// `stratus report connectionQuality|utilization` and `stratus cloudpc history ID`: the gateway's connection reports
/// and a Cloud PC's connection history (issue 21), as tables, JSON or CSV.
/// </summary>
internal static partial class ClientCommands
{
    private static Command Report()
    {
        var command = new Command("report", "The tenant's connection reports: round-trip quality and hours connected, last 28 days.");
        command.Subcommands.Add(ReportCommand("connectionQuality", "Round-trip P50/P95 per Cloud PC per day: good < 100 ms, average 100-200, high > 200.",
            ["date", "cloudPcId", "p50Milliseconds", "p95Milliseconds", "qualityCategory", "sampleCount", "sessionCount"]));
        command.Subcommands.Add(ReportCommand("utilization", "Hours connected per Cloud PC: high > 80, average 40-80, low < 40, neverConnected.",
            ["cloudPcId", "hoursConnected", "utilizationCategory", "sessionCount", "lastConnectedDateTime"]));
        return command;
    }

    private static Command ReportCommand(string name, string description, string[] columns)
    {
        var filter = new Option<string?>("--filter") { Description = "eq on named columns, for example \"qualityCategory eq 'high'\"." };
        var orderBy = new Option<string?>("--orderby") { Description = "A column, optionally followed by asc or desc." };
        var top = new Option<int?>("--top") { Description = "At most this many rows (1 to 1000)." };
        var csv = new Option<bool>("--csv") { Description = "Print CSV, as the report's export gives it." };
        var output = OutputOption();
        var command = new Command(name, description) { filter, orderBy, top, csv, output };
        command.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var query = new List<string>();
            if (result.GetValue(filter) is { } f)
            {
                query.Add("$filter=" + Uri.EscapeDataString(f));
            }

            if (result.GetValue(orderBy) is { } o)
            {
                query.Add("$orderby=" + Uri.EscapeDataString(o));
            }

            if (result.GetValue(top) is { } t)
            {
                query.Add($"$top={t}");
            }

            if (result.GetValue(csv))
            {
                query.Add("format=csv");
            }

            var path = $"/api/v1/reports/{name}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
            if (result.GetValue(csv))
            {
                Console.Write(await client.GetTextAsync(path, cancellationToken));
                return;
            }

            var page = await client.GetAsync(path, cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), columns);
        }));
        return command;
    }

    private static Command CloudPcHistory()
    {
        var id = new Argument<Guid>("id") { Description = "The Cloud PC's id (see 'stratus cloudpc list')." };
        var top = new Option<int?>("--top") { Description = "At most this many attempts, newest first." };
        var output = OutputOption();
        var history = new Command("history", "Every console attempt on a Cloud PC in the last 28 days: who, when, how it ended or why it was refused.")
        {
            id, top, output,
        };
        history.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync($"/api/v1/cloudPCs/{result.GetValue(id)}/connectionHistory" + (result.GetValue(top) is { } t ? $"?$top={t}" : ""), cancellationToken);
            foreach (var row in page["value"]!.AsArray())
            {
                // Flattened for the table: the attempt's average round trip, when it has samples.
                row!["averageRoundTripMs"] = row["roundTripTimes"]?["averageMilliseconds"]?.DeepClone();
            }

            Print(result.GetValue(output)!, page, page["value"]!.AsArray(),
                ["startDateTime", "durationSeconds", "userName", "outcome", "reason", "gatewayInstance", "averageRoundTripMs", "id"]);
        }));
        return history;
    }
}
