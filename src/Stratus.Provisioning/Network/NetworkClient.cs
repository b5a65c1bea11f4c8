using System.Net;
using System.Net.Http.Json;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Provisioning.Network;

/// <summary>The part of network's onPremisesConnection resource provisioning reads.</summary>
public sealed record ConnectionBody(Guid Id, string DisplayName, string? RegionName, string? HealthCheckStatus);

public sealed record SkippedConnectionBody(string ConnectionId, string? DisplayName, string? HealthCheckStatus, string? Reason);

/// <summary>Network's choice: the first usable entry ("hosted" or a connection id), or null when none is.</summary>
public sealed record SelectionBody(string? ConnectionId, string? RegionName, IReadOnlyList<SkippedConnectionBody>? Skipped);

/// <summary>Network could not be asked (unreachable, timed out, answered 5xx): nothing may be concluded from it.</summary>
public sealed class NetworkUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What provisioning asks the network service, as a workload of the tenant (scope networkConnections.read).</summary>
public sealed class NetworkClient(ServiceCalls calls)
{
    /// <summary>The entry of a policy's networkConnectionIds that means the hosted network.</summary>
    public const string Hosted = "hosted";

    /// <summary>What the Cloud PC resource shows as the connection name of the hosted network.</summary>
    public const string HostedName = "Hosted network";

    private const string Caller = "provisioning";

    private const string Service = "network";

    /// <summary>Whether a policy's list names a connection of the tenant's own (else everything stays on the hosted network, and network is never asked).</summary>
    public static bool NamesCustom(IEnumerable<string> connectionIds) => connectionIds.Any(c => c != Hosted);

    /// <summary>The tenant's connection, or null when network says it has none of that id (404).</summary>
    public async Task<ConnectionBody?> ConnectionAsync(Guid tenantId, Guid connectionId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(tenantId, http => http.GetAsync($"/api/v1/onPremisesConnections/{connectionId}", cancellationToken));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Ensure(response);
        return await response.Content.ReadFromJsonAsync<ConnectionBody>(cancellationToken)
            ?? throw new NetworkUnavailableException("The network service answered an empty connection.");
    }

    /// <summary>The first usable entry of <paramref name="connectionIds"/>, in order, and why each one before it was skipped.</summary>
    public async Task<SelectionBody> SelectAsync(Guid tenantId, IReadOnlyList<string> connectionIds, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(tenantId, http => http.PostAsJsonAsync("/api/v1/networkConnectionSelections", new { connectionIds }, cancellationToken));
        Ensure(response);
        return await response.Content.ReadFromJsonAsync<SelectionBody>(cancellationToken)
            ?? throw new NetworkUnavailableException("The network service answered an empty selection.");
    }

    private async Task<HttpResponseMessage> SendAsync(Guid tenantId, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        try
        {
            using var http = calls.For(Caller, Service, tenantId, StratusScopes.NetworkConnectionsRead);
            return await send(http);
        }
        catch (HttpRequestException e)
        {
            throw new NetworkUnavailableException($"The network service could not be reached: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
        {
            throw new NetworkUnavailableException("The network service did not answer in time.", e);
        }
    }

    private static void Ensure(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new NetworkUnavailableException($"The network service answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }
}
