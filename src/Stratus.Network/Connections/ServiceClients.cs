using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Network.Connections;

public sealed record UsagePolicy(Guid Id, string DisplayName);

/// <summary>Provisioning's answer: the policies that name a connection and its Cloud PCs not deprovisioned.</summary>
public sealed record ConnectionUsage(Guid ConnectionId, IReadOnlyList<UsagePolicy> Policies, int CloudPcCount)
{
    public bool InUse => Policies.Count > 0 || CloudPcCount > 0;

    public string Describe() =>
        (Policies.Count > 0 ? $"provisioning {(Policies.Count == 1 ? "policy" : "policies")} {string.Join(", ", Policies.Select(p => $"'{p.DisplayName}'"))} and " : "")
        + $"{CloudPcCount} Cloud {(CloudPcCount == 1 ? "PC" : "PCs")}";
}

/// <summary>An answer from another service, or why there is none (never a guess).</summary>
public sealed record Answer<T>(T? Value, string? Unavailable) where T : class;

/// <summary>
/// Asks provisioning's public API what uses a connection (as images asks about an image). A change that needs the
/// connection out of use is refused when provisioning cannot say: never blind.
/// </summary>
public sealed class ConnectionUsageClient(ServiceCalls calls)
{
    public async Task<Answer<ConnectionUsage>> OfAsync(Guid tenantId, Guid connectionId, CancellationToken cancellationToken)
    {
        try
        {
            using var http = calls.For("network", "provisioning", tenantId, StratusScopes.CloudPcsRead);
            using var response = await http.GetAsync($"/api/v1/networkConnectionUsage/{connectionId}", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new(null, "provisioning does not answer GET /api/v1/networkConnectionUsage (404): it does not know network connections yet");
            }

            if (!response.IsSuccessStatusCode)
            {
                return new(null, $"provisioning answered {(int)response.StatusCode} to GET /api/v1/networkConnectionUsage");
            }

            var usage = await response.Content.ReadFromJsonAsync<ConnectionUsage>(cancellationToken);
            return usage is null ? new(null, "provisioning answered no usage") : new(usage with { Policies = usage.Policies ?? [] }, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return new(null, $"provisioning could not be reached ({e.Message})");
        }
    }
}

public sealed record RegionHost(Guid HostId, string Name, string State, IReadOnlyList<string>? Interfaces);

public sealed record RegionHostInterfaces(string Region, IReadOnlyList<RegionHost> Hosts);

/// <summary>Compute's view of a region's hosts and their interfaces, from the agents' reports.</summary>
public sealed partial class HostInterfacesClient(ServiceCalls calls, ILogger<HostInterfacesClient> logger)
{
    private int loggedMissing;

    /// <returns>The hosts; null with no reason when compute does not serve the path (404: not merged), logged once.</returns>
    public async Task<Answer<RegionHostInterfaces>> OfRegionAsync(string region, CancellationToken cancellationToken)
    {
        try
        {
            using var http = calls.For("network", "compute", null, StratusScopes.HostsRead);
            using var response = await http.GetAsync($"/api/v1/regions/{Uri.EscapeDataString(region)}/hostInterfaces", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                if (Interlocked.Exchange(ref loggedMissing, 1) == 0)
                {
                    LogNoInterfacesEndpoint(logger);
                }

                return new(null, null);
            }

            if (!response.IsSuccessStatusCode)
            {
                return new(null, $"compute answered {(int)response.StatusCode} to GET /api/v1/regions/{region}/hostInterfaces");
            }

            var hosts = await response.Content.ReadFromJsonAsync<RegionHostInterfaces>(cancellationToken);
            return hosts is null ? new(null, "compute answered no hosts") : new(hosts with { Hosts = hosts.Hosts ?? [] }, null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return new(null, $"compute could not be reached ({e.Message})");
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning,
        Message = "Compute does not serve GET /api/v1/regions/{{name}}/hostInterfaces (404): uplink interfaces are not checked against the hosts")]
    private static partial void LogNoInterfacesEndpoint(ILogger logger);
}
