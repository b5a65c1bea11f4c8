using Stratus.Compute;
using Stratus.Diagnostics;
using Stratus.FrontDoor;
using Stratus.Gateway;
using Stratus.Identity;
using Stratus.Monitoring;
using Stratus.Network;
using Stratus.Provisioning;

namespace Stratus;

/// <summary>A service this binary can host: the pair of doors every module has.</summary>
internal sealed record StratusService(string Name, string Summary, Action<WebApplicationBuilder> Add, Action<WebApplication> Map);

internal static class Services
{
    public static readonly IReadOnlyList<StratusService> All =
    [
        new("identity", "accounts, sign-in and tokens", b => b.AddIdentity(), a => a.MapIdentityApi()),
        new("diagnostics", "the audit log and troubleshooting", b => b.AddDiagnostics(), a => a.MapDiagnosticsApi()),
        new("compute", "regions, hosts, placement and VM desired state", b => b.AddCompute(), a => a.MapComputeApi()),
        new("provisioning", "policies, assignment evaluation and the Cloud PC lifecycle", b => b.AddProvisioning(), a => a.MapProvisioningApi()),
        new("gateway", "console connections to Cloud PCs", b => b.AddGateway(), a => a.MapGatewayApi()),
        new("portal", "the end-user portal at / and the admin portal at /admin", b => Portal.PortalModule.AddPortal(b), a => Portal.PortalModule.MapPortal(a)),
        new("images", "gallery and custom images, replicated into every region", b => Images.ImagesModule.AddImages(b), a => Images.ImagesModule.MapImagesApi(a)),
        new("network", "network connections, their health checks and prioritized failover", b => b.AddNetwork(), a => a.MapNetworkApi()),
        new("monitoring", "alert rules, alert records and their e-mail and webhook notifications", b => b.AddMonitoring(), a => a.MapMonitoringApi()),
    ];

    /// <summary>
    /// Hosted only when named: the front door runs in a third location, in front of the regions' instances (ADR 0017),
    /// never beside the services it routes to, so `all` leaves it out.
    /// </summary>
    public static readonly StratusService FrontDoor =
        new("frontdoor", "the front door of two regions: routes to the writable region and decides it", b => FrontDoorModule.AddFrontDoor(b), a => FrontDoorModule.MapFrontDoor(a));

    /// <summary>Parses --targets: a comma-separated list of service names, or all.</summary>
    public static IReadOnlyList<StratusService> Select(string targets)
    {
        var names = targets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            throw new Platform.ConfigurationException($"--targets is empty: name one or more of {Known()}, or all.");
        }

        if (names.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase)))
        {
            return All;
        }

        var selectable = All.Append(FrontDoor).ToList();
        var unknown = names.Where(n => !selectable.Any(s => s.Name.Equals(n, StringComparison.OrdinalIgnoreCase))).ToList();
        if (unknown.Count > 0)
        {
            throw new Platform.ConfigurationException($"--targets: unknown service '{string.Join("', '", unknown)}'; choose from {Known()}, or all.");
        }

        return selectable.Where(s => names.Contains(s.Name, StringComparer.OrdinalIgnoreCase)).ToList();
    }

    private static string Known() => string.Join(", ", All.Append(FrontDoor).Select(s => s.Name));
}
