using Stratus.Platform.Auth;

namespace Stratus.Identity.Clients;

/// <summary>
/// The services that may ask for a token and the scopes each may get (ADR 0010): the least each one's calls
/// need. A portal acts as its signed-in user with the user's own token: its client, like compute's, only reads
/// the credential revocations that every process polls (ADR 0011), which every client may.
/// </summary>
public static class ServiceClientCatalog
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Scopes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        // The Cloud PC of the user it serves (or of the console operator's tenant), and a relay from its host.
        ["gateway"] = [StratusScopes.CloudPcsRead, StratusScopes.ConsolesRelay, StratusScopes.RevocationsRead],
        // The directory and licenses its assignments follow, the images its policies name.
        ["provisioning"] = [StratusScopes.DirectoryRead, StratusScopes.LicensesWrite, StratusScopes.ImagesRead, StratusScopes.RevocationsRead, StratusScopes.VmsRead],
        // Whether Cloud PCs use an image before its files go.
        ["images"] = [StratusScopes.CloudPcsRead, StratusScopes.RevocationsRead],
        // Whether a tenant still has Cloud PCs before it is deleted.
        ["identity"] = [StratusScopes.CloudPcsRead, StratusScopes.RevocationsRead],
        ["compute"] = [StratusScopes.RevocationsRead],
        ["diagnostics"] = [StratusScopes.RevocationsRead],
        ["portal"] = [StratusScopes.RevocationsRead],
    };
}
