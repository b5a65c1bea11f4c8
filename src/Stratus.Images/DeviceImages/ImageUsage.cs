using System.Net.Http.Json;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Images.DeviceImages;

public sealed record ImageUsagePolicy(Guid Id, string DisplayName);

/// <summary>Provisioning's answer: the policies that name an image and how many Cloud PCs were built from it.</summary>
public sealed record ImageUsage(string ImageId, IReadOnlyList<ImageUsagePolicy> Policies, int CloudPcCount)
{
    public bool InUse => Policies.Count > 0 || CloudPcCount > 0;

    public string Describe() =>
        (Policies.Count > 0 ? $"provisioning {(Policies.Count == 1 ? "policy" : "policies")} {string.Join(", ", Policies.Select(p => $"'{p.DisplayName}'"))} and " : "")
        + $"{CloudPcCount} Cloud {(CloudPcCount == 1 ? "PC" : "PCs")}";
}

/// <summary>
/// Asks provisioning's public API what uses an image (never its tables): a VM's disk is a copy-on-write overlay
/// of its image's disk, so an image's files go only once nothing uses them. A call that fails throws: the
/// callers then keep the files.
/// </summary>
public sealed class ImageUsageClient(ServiceCalls calls)
{
    /// <summary>The usage within one tenant (a custom image is its tenant's alone).</summary>
    public Task<ImageUsage> OfTenantAsync(Guid tenantId, string imageId, CancellationToken cancellationToken) =>
        GetAsync(calls.For("images", "provisioning", tenantId, StratusScopes.CloudPcsRead), imageId, cancellationToken);

    /// <summary>The usage in every tenant, for files whose image (and so its tenant) the store no longer knows.</summary>
    public Task<ImageUsage> OfAnyTenantAsync(string imageId, CancellationToken cancellationToken) =>
        GetAsync(calls.For("images", "provisioning", null, StratusScopes.CloudPcsRead), imageId, cancellationToken);

    private static async Task<ImageUsage> GetAsync(HttpClient http, string imageId, CancellationToken cancellationToken)
    {
        using (http)
        {
            return await http.GetFromJsonAsync<ImageUsage>($"/api/v1/imageUsage/{Uri.EscapeDataString(imageId)}", cancellationToken)
                ?? throw new InvalidOperationException($"provisioning answered no usage of image {imageId}");
        }
    }
}
