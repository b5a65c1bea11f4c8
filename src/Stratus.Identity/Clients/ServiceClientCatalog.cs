using Stratus.Platform.Auth;

namespace Stratus.Identity.Clients;

/// <summary>
/// The services that may ask for a token and the scopes each may get (ADR 0010): the least each one's calls
/// need. A portal has no client: it acts as its signed-in user with the user's own token.
/// </summary>
public static class ServiceClientCatalog
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Scopes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        // The Cloud PC of the user it serves (or of the console operator's tenant), and a relay from its host.
        ["gateway"] = [StratusScopes.CloudPcsRead, StratusScopes.ConsolesRelay],
        // The directory and licenses its assignments follow, the images its policies name.
        ["provisioning"] = [StratusScopes.DirectoryRead, StratusScopes.LicensesWrite, StratusScopes.ImagesRead],
        // Whether Cloud PCs use an image before its files go.
        ["images"] = [StratusScopes.CloudPcsRead],
        // Whether a tenant still has Cloud PCs before it is deleted.
        ["identity"] = [StratusScopes.CloudPcsRead],
    };
}
