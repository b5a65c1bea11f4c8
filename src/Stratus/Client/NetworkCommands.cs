using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Stratus.Client;

/// <summary>
/// `stratus network list|show|create|update|delete|check|runs|move-cloud-pcs`: the tenant's network connections
/// (`/api/v1/onPremisesConnections`, issue 20) and their health checks from a terminal.
/// </summary>
internal static partial class ClientCommands
{
    private const string ConnectionsPath = "/api/v1/onPremisesConnections";

    /// <summary>A full set of checks takes seconds; a run waits for every host of the region, each with its own deadline.</summary>
    private static readonly TimeSpan CheckWaitLimit = TimeSpan.FromMinutes(3);

    private static Command Network()
    {
        var command = new Command("network", "Network connections: the tenant's own networks in a region, and their health checks.");
        command.Subcommands.Add(NetworkList());
        command.Subcommands.Add(NetworkShow());
        command.Subcommands.Add(NetworkCreate());
        command.Subcommands.Add(NetworkUpdate());
        command.Subcommands.Add(NetworkDelete());
        command.Subcommands.Add(NetworkCheck());
        command.Subcommands.Add(NetworkRuns());
        command.Subcommands.Add(NetworkMove());
        return command;
    }

    private static Argument<Guid> ConnectionId() => new("id") { Description = "The connection's id (see 'stratus network list')." };

    private static Command NetworkList()
    {
        var output = OutputOption();
        var list = new Command("list", "The tenant's network connections with their health.") { output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync($"{ConnectionsPath}?$top=100", cancellationToken);
            foreach (var row in page["value"]!.AsArray())
            {
                // Flattened for the table: the uplink in words, and when the latest run ended.
                row!["uplinkText"] = UplinkText(row["uplink"]);
                row["lastCheck"] = row["healthCheckStatusDetail"]?["endDateTime"]?.DeepClone();
            }

            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["displayName", "regionName", "subnet", "uplinkText", "healthCheckStatus", "inUse", "lastCheck", "id"]);
        }));
        return list;
    }

    private static Command NetworkShow()
    {
        var id = ConnectionId();
        var output = OutputOption();
        var show = new Command("show", "One connection: its settings and the checks of its latest run.") { id, output };
        show.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var connection = await client.GetAsync($"{ConnectionsPath}/{result.GetValue(id)}", cancellationToken);
            if (result.GetValue(output) == "json")
            {
                Console.WriteLine(connection.ToJsonString(Indented));
                return;
            }

            PrintConnection(connection);
        }));
        return show;
    }

    private static Command NetworkCreate()
    {
        var name = new Option<string>("--name") { Description = "The connection's display name.", Required = true };
        var region = new Option<string>("--region") { Description = "The region whose hosts carry it.", Required = true };
        var subnet = new Option<string>("--subnet") { Description = "The tenant's subnet, for example 10.20.0.0/24.", Required = true };
        var gateway = new Option<string>("--gateway") { Description = "The subnet's gateway, for example 10.20.0.1.", Required = true };
        var mtu = new Option<int>("--mtu") { Description = "576 to 9000.", DefaultValueFactory = _ => 1500 };
        var uplink = new Option<string>("--uplink") { Description = "hostInterface, vlan or vxlan.", DefaultValueFactory = _ => "hostInterface" };
        var hostInterface = new Option<string>("--interface") { Description = "The host interface it goes out through, for example eth1.", Required = true };
        var vlan = new Option<int?>("--vlan-id") { Description = "The VLAN id (1-4094), with --uplink vlan." };
        var vxlan = new Option<int?>("--vxlan-id") { Description = "The VNI (1-16777215), with --uplink vxlan." };
        var remote = new Option<string?>("--vxlan-remote") { Description = "The VXLAN tunnel's remote address, with --uplink vxlan." };
        var port = new Option<int?>("--vxlan-port") { Description = "The VXLAN UDP port (default 4789)." };
        var settings = new ConnectionSettingOptions();
        var output = OutputOption();
        var create = new Command("create", "Create a connection; its health checks start at once.")
        {
            name, region, subnet, gateway, mtu, uplink, hostInterface, vlan, vxlan, remote, port, output,
        };
        settings.AddTo(create);
        create.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var connection = await client.PostAsync(ConnectionsPath, new
            {
                displayName = result.GetValue(name),
                regionName = result.GetValue(region),
                subnet = result.GetValue(subnet),
                gateway = result.GetValue(gateway),
                mtu = result.GetValue(mtu),
                uplink = new
                {
                    kind = result.GetValue(uplink),
                    @interface = result.GetValue(hostInterface),
                    vlanId = result.GetValue(vlan),
                    vxlanId = result.GetValue(vxlan),
                    vxlanRemote = result.GetValue(remote),
                    vxlanPort = result.GetValue(port),
                },
                dnsServers = result.GetValue(settings.DnsServers) ?? [],
                dnsSearchDomain = result.GetValue(settings.SearchDomain),
                dnsNamesToResolve = result.GetValue(settings.Names) ?? [],
                requiredEndpoints = result.GetValue(settings.Endpoints) ?? [],
            }, cancellationToken);
            PrintChanged(result.GetValue(output)!, connection, "Created");
        }));
        return create;
    }

    private static Command NetworkUpdate()
    {
        var id = ConnectionId();
        var name = new Option<string?>("--name") { Description = "A new display name." };
        var mtu = new Option<int?>("--mtu") { Description = "A new MTU (576 to 9000)." };
        var settings = new ConnectionSettingOptions();
        var output = OutputOption();
        var update = new Command("update", "Change a connection's name, MTU, DNS settings, names to resolve or endpoints; only the options given change.") { id, name, mtu, output };
        settings.AddTo(update);
        update.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            // Only the options given: an option not on the command line reads as an empty list, which would clear it.
            var changes = new JsonObject();
            void Set(string field, Option option, JsonNode? value)
            {
                if (result.GetResult(option) is { Implicit: false })
                {
                    changes[field] = value;
                }
            }

            Set("displayName", name, result.GetValue(name));
            Set("mtu", mtu, result.GetValue(mtu));
            Set("dnsServers", settings.DnsServers, Strings(result.GetValue(settings.DnsServers)));
            Set("dnsSearchDomain", settings.SearchDomain, result.GetValue(settings.SearchDomain));
            Set("dnsNamesToResolve", settings.Names, Strings(result.GetValue(settings.Names)));
            Set("requiredEndpoints", settings.Endpoints, Strings(result.GetValue(settings.Endpoints)));
            if (changes.Count == 0)
            {
                throw new ClientException("nothing to change: give at least one of --name, --mtu, --dns-server, --dns-search-domain, --resolve, --endpoint.");
            }

            using var client = ApiClient.SignedIn();
            var connection = await client.SendAsync(HttpMethod.Patch, $"{ConnectionsPath}/{result.GetValue(id)}", changes, cancellationToken);
            PrintChanged(result.GetValue(output)!, connection, "Updated");
        }));
        return update;
    }

    private static Command NetworkDelete()
    {
        var id = ConnectionId();
        var delete = new Command("delete", "Delete a connection that no policy and no Cloud PC uses; every host of its region takes it down.") { id };
        delete.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            await client.SendAsync(HttpMethod.Delete, $"{ConnectionsPath}/{result.GetValue(id)}", (object?)null, cancellationToken);
            Console.WriteLine($"Deleted network connection {result.GetValue(id)}.");
        }));
        return delete;
    }

    private static Command NetworkCheck()
    {
        var id = ConnectionId();
        var wait = new Option<bool>("--wait") { Description = "Wait until the run ends, then print its checks; exit 1 when a check failed." };
        var output = OutputOption();
        var check = new Command("check", "Run the connection's health checks now.") { id, wait, output };
        check.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var connectionId = result.GetValue(id);
            var run = await client.PostAsync($"{ConnectionsPath}/{connectionId}/runHealthChecks", new { }, cancellationToken);
            var runId = run["id"]?.GetValue<string>();
            var json = result.GetValue(output) == "json";
            if (!result.GetValue(wait))
            {
                Console.WriteLine(json ? run.ToJsonString(Indented) : $"Checks started (run {runId}); see 'stratus network show {connectionId}' or add --wait.");
                return;
            }

            var connection = await WaitForChecksAsync(client, connectionId, runId, json, cancellationToken);
            if (json)
            {
                Console.WriteLine(connection.ToJsonString(Indented));
            }
            else
            {
                PrintConnection(connection);
            }

            if (connection["healthCheckStatus"]?.GetValue<string>() == "failed")
            {
                var failed = connection["healthCheckStatusDetail"]?["healthChecks"]?.AsArray()
                    .Where(c => c?["status"]?.GetValue<string>() == "failed").Select(c => $"{c!["displayName"]} ({c["errorType"]})") ?? [];
                throw new ClientException($"the checks of {connection["displayName"]} failed: {string.Join(", ", failed)}.");
            }
        }));
        return check;
    }

    /// <summary>
    /// Polls until the run ends: its entry in the history when the API named the run, else the connection's status.
    /// A spinner on a terminal, a line per change in a pipe, nothing extra with JSON.
    /// </summary>
    private static async Task<JsonNode> WaitForChecksAsync(ApiClient client, Guid connectionId, string? runId, bool quiet, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CheckWaitLimit);
        var started = TimeProvider.System.GetUtcNow();
        async Task<JsonNode> PollAsync(Action<string> show)
        {
            while (true)
            {
                var connection = await client.GetAsync($"{ConnectionsPath}/{connectionId}", deadline.Token);
                var status = connection["healthCheckStatus"]?.GetValue<string>() ?? "pending";
                if (runId is not null)
                {
                    var runs = await client.GetAsync($"{ConnectionsPath}/{connectionId}/healthCheckRuns?$top=20", deadline.Token);
                    var run = runs["value"]?.AsArray().FirstOrDefault(r => r?["id"]?.GetValue<string>() == runId);
                    status = run?["status"]?.GetValue<string>() ?? "running";
                }

                show($"checking {connection["displayName"]} on the hosts of {connection["regionName"]} ({(TimeProvider.System.GetUtcNow() - started).TotalSeconds:0} s)");
                if (status is not ("running" or "pending"))
                {
                    return await client.GetAsync($"{ConnectionsPath}/{connectionId}", deadline.Token);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
            }
        }

        try
        {
            if (quiet || Console.IsOutputRedirected)
            {
                var said = false;
                return await PollAsync(line =>
                {
                    if (!quiet && !said)
                    {
                        Console.WriteLine(line.Split(" (")[0] + "...");
                        said = true;
                    }
                });
            }

            return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync("Checking...", context => PollAsync(line => context.Status(line)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClientException($"the checks of {connectionId} did not end within {CheckWaitLimit.TotalMinutes:0} minutes; see 'stratus network runs {connectionId}'.");
        }
    }

    private static Command NetworkRuns()
    {
        var id = ConnectionId();
        var top = new Option<int>("--top") { Description = "At most this many runs, newest first.", DefaultValueFactory = _ => 10 };
        var output = OutputOption();
        var runs = new Command("runs", "The history of a connection's health check runs, newest first.") { id, top, output };
        runs.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync($"{ConnectionsPath}/{result.GetValue(id)}/healthCheckRuns?$top={result.GetValue(top)}", cancellationToken);
            foreach (var run in page["value"]?.AsArray() ?? [])
            {
                // For the table: the checks that did not pass, with their error types.
                run!["notPassed"] = string.Join(", ", run["detail"]?["healthChecks"]?.AsArray().Where(c => c?["status"]?.GetValue<string>() != "passed")
                    .Select(c => $"{c!["displayName"]}: {c["status"]} ({c["errorType"]})") ?? []);
            }

            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["requestedDateTime", "requestedBy", "status", "endDateTime", "hostsReported", "notPassed", "id"]);
        }));
        return runs;
    }

    private static Command NetworkMove()
    {
        var id = ConnectionId();
        var output = OutputOption();
        var move = new Command("move-cloud-pcs", "Move the Cloud PCs on this connection, one by one, to the next healthy connection of their policies.") { id, output };
        move.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var moving = await client.PostAsync($"{ConnectionsPath}/{result.GetValue(id)}/moveCloudPcs", new { }, cancellationToken);
            if (result.GetValue(output) == "json")
            {
                Console.WriteLine(moving.ToJsonString(Indented));
                return;
            }

            var count = moving["cloudPcCount"]?.GetValue<int>() ?? 0;
            Console.WriteLine(count == 0
                ? "No Cloud PC is on this connection: nothing to move."
                : $"Moving {count} Cloud PC{(count == 1 ? "" : "s")}, one at a time; each move is in the audit log ('cloudPc.networkConnectionMoved').");
        }));
        return move;
    }

    private static void PrintChanged(string output, JsonNode connection, string verb)
    {
        if (output == "json")
        {
            Console.WriteLine(connection.ToJsonString(Indented));
            return;
        }

        Console.WriteLine($"{verb} network connection {connection["displayName"]} ({connection["id"]}) in {connection["regionName"]}: {connection["healthCheckStatus"]}.");
    }

    /// <summary>The settings and the checks of the latest run, each check with what to do when it did not pass.</summary>
    private static void PrintConnection(JsonNode connection)
    {
        FitPipes();
        var detail = connection["healthCheckStatusDetail"];
        Console.WriteLine($"{connection["displayName"]} ({connection["id"]}): {connection["healthCheckStatus"]}, in use: {Cell(connection["inUse"])}");
        Console.WriteLine($"  region {connection["regionName"]}, subnet {connection["subnet"]} via {connection["gateway"]}, MTU {connection["mtu"]}, uplink {UplinkText(connection["uplink"])}");
        Console.WriteLine($"  DNS {Cell(connection["dnsServers"])}{(connection["dnsSearchDomain"] is { } domain ? $" (search {domain})" : "")}; resolves {Cell(connection["dnsNamesToResolve"])}; endpoints {Cell(connection["requiredEndpoints"])}");
        var checks = detail?["healthChecks"]?.AsArray() ?? [];
        if (checks.Count == 0)
        {
            Console.WriteLine("  No check has finished yet.");
            return;
        }

        Console.WriteLine($"  Latest run: {Cell(detail?["startDateTime"])} to {Cell(detail?["endDateTime"])}");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("check").AddColumn("status").AddColumn("ms").AddColumn("error type").AddColumn("recommended action").AddColumn("details");
        foreach (var check in checks)
        {
            table.AddRow(new[] { "displayName", "status", "durationMs", "errorType", "recommendedAction", "additionalDetails" }.Select(c => Markup.Escape(Cell(check?[c]))).ToArray());
        }

        AnsiConsole.Write(table);
    }

    private static string UplinkText(JsonNode? uplink) => uplink?["kind"]?.GetValue<string>() switch
    {
        "vlan" => $"vlan {uplink["vlanId"]} on {uplink["interface"]}",
        "vxlan" => $"vxlan {uplink["vxlanId"]} to {uplink["vxlanRemote"]}:{uplink["vxlanPort"]?.ToString() ?? "4789"} over {uplink["interface"]}",
        _ => uplink?["interface"]?.ToString() ?? "",
    };

    private static JsonArray? Strings(string[]? values) => values is null ? null : new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>The settings create and update share: DNS, the names the DNS check resolves, the endpoints it connects to.</summary>
    private sealed class ConnectionSettingOptions
    {
        public Option<string[]?> DnsServers { get; } = new("--dns-server") { Description = "A DNS server of the tenant (repeat for several)." };

        public Option<string?> SearchDomain { get; } = new("--dns-search-domain") { Description = "The DNS search domain the Cloud PCs get." };

        public Option<string[]?> Names { get; } = new("--resolve") { Description = "A name every DNS server must resolve (repeat for several)." };

        public Option<string[]?> Endpoints { get; } = new("--endpoint") { Description = "A host:port the Cloud PCs must reach (repeat for several)." };

        public void AddTo(Command command)
        {
            command.Options.Add(DnsServers);
            command.Options.Add(SearchDomain);
            command.Options.Add(Names);
            command.Options.Add(Endpoints);
        }
    }
}
