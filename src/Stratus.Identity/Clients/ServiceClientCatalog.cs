using Stratus.Platform.Auth;
using Stratus.Platform.Regions;

namespace Stratus.Identity.Clients;

/// <summary>
/// What one service client may get at the token endpoint.
/// </summary>
/// <param name="Scopes">Client credentials: the scopes it may have as itself.</param>
/// <param name="NamesTenant">Whether its client-credentials token may name a tenant of its choosing (its work spans
/// tenants: provisioning's assignments, images' usage, identity's tenant deletion). A client that acts only for the
/// user it serves may not: it gets a tenant only from a user's token, by token exchange.</param>
/// <param name="Delegable">Token exchange (RFC 8693, ADR 0016): the scopes it may have for the user whose token it
/// presents, in that user's tenant.</param>
public sealed record ServiceClient(IReadOnlyList<string> Scopes, bool NamesTenant, IReadOnlyList<string> Delegable);

/// <summary>
/// The services that may ask for a token and what each may get (ADR 0010, 0016): the least each one's calls need.
/// A portal acts as its signed-in user with the user's own token: its client, like compute's, only reads the
/// credential revocations that every process polls (ADR 0011), which every client may. Every client may also ask the
/// front door for its region's lease (<see cref="RegionLeaseApi.Scope"/>, issue 19): every instance of a region does.
/// </summary>
public static class ServiceClientCatalog
{
    public static readonly IReadOnlyDictionary<string, ServiceClient> Clients = new Dictionary<string, ServiceClient>(StringComparer.Ordinal)
    {
        // As itself, nothing tenant-bound. For the user it serves (or the console operator), with that user's token:
        // their tenant's Cloud PC, and a relay from its host.
        ["gateway"] = new([StratusScopes.RevocationsRead], NamesTenant: false, Delegable: [StratusScopes.CloudPcsRead, StratusScopes.ConsolesRelay]),
        // The directory and licenses its assignments follow, the images and network connections its policies name.
        ["provisioning"] = new([StratusScopes.DirectoryRead, StratusScopes.LicensesWrite, StratusScopes.ImagesRead, StratusScopes.RevocationsRead, StratusScopes.VmsRead, StratusScopes.NetworkConnectionsRead], NamesTenant: true, Delegable: []),
        // Whether Cloud PCs use an image before its files go.
        ["images"] = new([StratusScopes.CloudPcsRead, StratusScopes.RevocationsRead], NamesTenant: true, Delegable: []),
        // Whether a tenant still has Cloud PCs before it is deleted.
        ["identity"] = new([StratusScopes.CloudPcsRead, StratusScopes.RevocationsRead], NamesTenant: true, Delegable: []),
        // Which Cloud PCs and policies use a network connection before it is deleted or its addresses counted, and
        // which interfaces the region's hosts have for its uplink.
        ["network"] = new([StratusScopes.CloudPcsRead, StratusScopes.HostsRead, StratusScopes.RevocationsRead], NamesTenant: true, Delegable: []),
        ["compute"] = new([StratusScopes.RevocationsRead], NamesTenant: false, Delegable: []),
        // Troubleshooting: the VM and host state of a Cloud PC as itself; the Cloud PC and its network connection for
        // the administrator who asks, with their token (their tenant's only).
        ["diagnostics"] = new([StratusScopes.RevocationsRead, StratusScopes.VmsRead, StratusScopes.HostsRead], NamesTenant: false,
            Delegable: [StratusScopes.CloudPcsRead, StratusScopes.NetworkConnectionsRead]),
        ["portal"] = new([StratusScopes.RevocationsRead], NamesTenant: false, Delegable: []),
    }.ToDictionary(c => c.Key, c => c.Value with { Scopes = [.. c.Value.Scopes, RegionLeaseApi.Scope] }, StringComparer.Ordinal);
}
