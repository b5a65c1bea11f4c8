using System.Net.Http.Json;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Diagnostics.Troubleshooting;

/// <summary>
/// The other services' public APIs troubleshooting reads. What is tenant data (the Cloud PC, its network connection,
/// its restore points) is read for the administrator with their own token exchanged (ADR 0016): their tenant's, whatever
/// id they send. Compute's VM and host state are read as diagnostics itself (vms.read, hosts.read), only for the VM
/// of a Cloud PC provisioning has just answered for that tenant.
/// </summary>
public sealed class ServiceReads(ServiceCalls calls)
{
    public const string Client = "diagnostics";

    public Task<Answer<CloudPcInfo>> CloudPcAsync(string userToken, Guid id, CancellationToken cancellationToken) =>
        GetAsync<CloudPcInfo>(() => calls.ForUser(Client, "provisioning", StratusScopes.CloudPcsRead, userToken), "provisioning", $"/api/v1/cloudPCs/{id}", cancellationToken);

    public Task<Answer<RestorePointList>> RestorePointsAsync(string userToken, Guid id, CancellationToken cancellationToken) =>
        GetAsync<RestorePointList>(() => calls.ForUser(Client, "provisioning", StratusScopes.CloudPcsRead, userToken), "provisioning", $"/api/v1/cloudPCs/{id}/snapshots", cancellationToken);

    public Task<Answer<ConnectionInfo>> ConnectionAsync(string userToken, Guid id, CancellationToken cancellationToken) =>
        GetAsync<ConnectionInfo>(() => calls.ForUser(Client, "network", StratusScopes.NetworkConnectionsRead, userToken), "network", $"/api/v1/onPremisesConnections/{id}", cancellationToken);

    public Task<Answer<VmInfo>> VmAsync(Guid vmId, CancellationToken cancellationToken) =>
        GetAsync<VmInfo>(() => calls.For(Client, "compute", null, StratusScopes.VmsRead), "compute", $"/api/v1/vms/{vmId}", cancellationToken);

    public Task<Answer<RegionHostsInfo>> RegionHostsAsync(string region, CancellationToken cancellationToken) =>
        GetAsync<RegionHostsInfo>(() => calls.For(Client, "compute", null, StratusScopes.HostsRead), "compute", $"/api/v1/regions/{Uri.EscapeDataString(region)}/hostInterfaces", cancellationToken);

    private static async Task<Answer<T>> GetAsync<T>(Func<HttpClient> client, string service, string path, CancellationToken cancellationToken) where T : class
    {
        try
        {
            using var http = client();
            using var response = await http.GetAsync(path, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return Answer<T>.None((int)response.StatusCode, $"{service} answered {(int)response.StatusCode} to GET {path}");
            }

            var value = await response.Content.ReadFromJsonAsync<T>(cancellationToken);
            return value is null ? Answer<T>.None(null, $"{service} answered nothing to GET {path}") : Answer<T>.Of(value);
        }
        catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.BadRequest)
        {
            // The token exchange's invalid_grant: the administrator's own token expired or was revoked meanwhile.
            return Answer<T>.None(401, "your sign-in expired or was revoked; sign in again");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException
                                      && !cancellationToken.IsCancellationRequested)
        {
            return Answer<T>.None(null, $"{service} could not be reached ({e.Message})");
        }
    }
}
