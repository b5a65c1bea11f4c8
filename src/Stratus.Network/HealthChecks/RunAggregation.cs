using System.Text.Json;
using Stratus.Network.Connections;

namespace Stratus.Network.HealthChecks;

public static class HostReports
{
    public static List<NetworkChecksReported> Parse(string json) => JsonSerializer.Deserialize<List<NetworkChecksReported>>(json, HealthCheckDetail.Json) ?? [];

    public static string ToJson(IEnumerable<NetworkChecksReported> reports) => JsonSerializer.Serialize(reports, HealthCheckDetail.Json);
}

/// <summary>What the network service itself knows at a run's end: the hosts expected and the Cloud PCs on the subnet.</summary>
/// <param name="ExpectedHosts">How many hosts of the region are up (the reports' RegionHostCount, or compute's count).</param>
/// <param name="SilentHosts">Names of up hosts that did not report, when compute could say.</param>
/// <param name="CloudPcCount">Provisioning's count; null when it could not say (<paramref name="UsageUnavailable"/>).</param>
public sealed record RunContext(int ExpectedHosts, IReadOnlyList<string> SilentHosts, int? CloudPcCount, string? UsageUnavailable);

/// <summary>
/// The rules of issue 20 for one run: each host check's status across hosts is the worst (failed over warning over
/// passed), its details name the hosts; then the service's own checks, addressSpace and hostsReporting.
/// </summary>
public static class RunAggregation
{
    public static readonly IReadOnlyList<string> HostCheckOrder =
        ["uplinkExists", "bridgeAndDhcpRunning", "mtuConsistent", "gatewayReachable", "dnsResolution", "endpointConnectivity"];

    public static HealthCheckDetail Aggregate(NetworkConnection connection, IReadOnlyList<NetworkChecksReported> reports, RunContext context,
        DateTimeOffset startedAt, DateTimeOffset now)
    {
        var checks = new List<HealthCheckView>();
        // By host name: the details read the same whichever host reported first.
        var results = reports.OrderBy(r => r.HostName, StringComparer.Ordinal).SelectMany(r => ChecksOf(r).Select(c => (Host: r.HostName, Check: c))).ToList();
        foreach (var name in results.Select(r => r.Check.Name).Distinct().OrderBy(Order))
        {
            var perHost = results.Where(r => r.Check.Name == name).ToList();
            var worst = perHost.OrderByDescending(r => Severity(r.Check.Status)).First();
            var details = worst.Check.Status == "passed"
                ? $"Passed on {string.Join(", ", perHost.Select(r => r.Host).Distinct())}."
                : string.Join("; ", perHost.Where(r => r.Check.Status != "passed").Select(r => $"{r.Host}: {r.Check.Status}{(r.Check.AdditionalDetails is { } d ? " (" + d + ")" : "")}"));
            checks.Add(new HealthCheckView(name, worst.Check.Status, worst.Check.ErrorType, worst.Check.RecommendedAction, details,
                perHost.Min(r => r.Check.StartDateTime), perHost.Max(r => r.Check.EndDateTime),
                (long)perHost.Max(r => (r.Check.EndDateTime - r.Check.StartDateTime).TotalMilliseconds)));
        }

        checks.Add(AddressSpace(connection, context, now));
        checks.Add(HostsReporting(reports, context, now));
        return new HealthCheckDetail(startedAt, now, checks);
    }

    public static HealthCheckStatus Overall(HealthCheckDetail detail) =>
        detail.HealthChecks.Select(c => c.Status).Max(Severity) switch
        {
            2 => HealthCheckStatus.Failed,
            1 => HealthCheckStatus.Warning,
            _ => HealthCheckStatus.Passed,
        };

    public static int Severity(string status) => status switch
    {
        "failed" => 2,
        "warning" => 1,
        _ => 0,
    };

    /// <summary>A host that could not realize the connection reports why, as a failed bridge check if it sent none.</summary>
    private static IEnumerable<NetworkCheckResult> ChecksOf(NetworkChecksReported report) =>
        report.Checks is { Count: > 0 } checks || report.Realized
            ? report.Checks ?? []
            : [new NetworkCheckResult("bridgeAndDhcpRunning", "failed", "bridgeNotRunning", "See the host agent's log on the host named for why the connection could not be set up.",
                report.Error ?? "the connection is not realized", report.CheckedAt, report.CheckedAt)];

    private static HealthCheckView AddressSpace(NetworkConnection connection, RunContext context, DateTimeOffset now)
    {
        const string name = "addressSpace";
        if (!ConnectionRules.TryParseSubnet(connection.Subnet, out var subnet, out _))
        {
            return new(name, "failed", "addressSpaceExhausted", "Give the connection a valid subnet.", $"'{connection.Subnet}' is not a subnet.", now, now, 0);
        }

        var total = 1L << (32 - subnet.PrefixLength);
        var cloudPcs = context.CloudPcCount ?? 0;
        // Network, broadcast and gateway, one service address per host of the region, one per Cloud PC on it.
        var free = total - 3 - context.ExpectedHosts - cloudPcs;
        var counted = $"{free} of {total} addresses of {connection.Subnet} free after the network, broadcast and gateway addresses, "
            + $"{context.ExpectedHosts} host service {(context.ExpectedHosts == 1 ? "address" : "addresses")} and {cloudPcs} Cloud {(cloudPcs == 1 ? "PC" : "PCs")}";
        if (free <= 0)
        {
            return new(name, "failed", "addressSpaceExhausted", "Use a larger subnet (a smaller prefix length) or move Cloud PCs to another connection.", counted + ".", now, now, 0);
        }

        if (context.UsageUnavailable is { } why)
        {
            return new(name, "warning", null, "Check again when provisioning answers.", $"{counted}; the Cloud PC count is unknown: {why}.", now, now, 0);
        }

        return free * 10 < total
            ? new(name, "warning", "addressSpaceExhausted", "Use a larger subnet soon: fewer than 10 % of its addresses are free.", counted + ".", now, now, 0)
            : new(name, "passed", null, null, counted + ".", now, now, 0);
    }

    private static HealthCheckView HostsReporting(IReadOnlyList<NetworkChecksReported> reports, RunContext context, DateTimeOffset now)
    {
        const string name = "hostsReporting";
        if (context.ExpectedHosts == 0 && reports.Count == 0)
        {
            return new(name, "failed", "noHostInRegion", "Add a host to the region (stratus host) or choose a region that has hosts.",
                "No host of the region is up, so the connection is realized nowhere.", now, now, 0);
        }

        var reported = reports.Select(r => r.HostName).Distinct().Order(StringComparer.Ordinal).ToList();
        var missing = Math.Max(0, context.ExpectedHosts - reported.Count);
        if (missing > 0)
        {
            var names = context.SilentHosts.Count > 0 ? $": {string.Join(", ", context.SilentHosts)}" : "";
            return new(name, "failed", "hostDidNotReport", "Check that the hosts named are up and their agents run; their agents' logs say why the checks did not finish.",
                $"{missing} of {context.ExpectedHosts} hosts did not report before the run's deadline{names}. Reported: {(reported.Count == 0 ? "none" : string.Join(", ", reported))}.", now, now, 0);
        }

        return new(name, "passed", null, null, $"All {reported.Count} hosts of the region reported: {string.Join(", ", reported)}.", now, now, 0);
    }

    /// <summary>The agent's order; a check this service does not know yet goes last.</summary>
    private static int Order(string name)
    {
        for (var i = 0; i < HostCheckOrder.Count; i++)
        {
            if (HostCheckOrder[i] == name)
            {
                return i;
            }
        }

        return int.MaxValue;
    }
}
