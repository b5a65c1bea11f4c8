using Microsoft.AspNetCore.Http.HttpResults;
using Stratus.Platform.Http;

namespace Stratus.Provisioning.Network;

/// <summary>
/// A policy's networkConnectionIds: an ordered list of the tenant's connection ids and "hosted", each at most once;
/// empty means the hosted network. Checked in two passes: the form first (no call), then each connection id at
/// network, so a malformed list costs no call and a list of only "hosted" never needs the network service.
/// </summary>
public static class PolicyConnections
{
    private const string Field = "networkConnectionIds";

    /// <summary>Adds an error per malformed or repeated entry.</summary>
    public static void ValidateForm(List<string>? entries, Validator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (entries?.Count ?? 0); i++)
        {
            var entry = entries![i];
            if (Normalize(entry) is not { } normal)
            {
                validator.Add($"{Field}[{i}]", $"'{entry}' is neither 'hosted' nor the id (a GUID) of a network connection; list yours at /api/v1/onPremisesConnections.");
            }
            else if (!seen.Add(normal))
            {
                validator.Add($"{Field}[{i}]", $"'{entry}' is in the list twice; name each connection once, in the order they are to be tried.");
            }
        }
    }

    /// <summary>The list as stored: "hosted" and connection ids in one spelling, in the order given.</summary>
    public static List<string> Normalized(List<string> entries) => entries.Select(e => Normalize(e)!).ToList();

    /// <summary>
    /// Null when every connection id of the (well-formed) list is the tenant's; else a 400 naming each entry that
    /// is not, or a 503 when network cannot say (then the caller writes nothing).
    /// </summary>
    public static async Task<(ValidationProblem? Invalid, ProblemHttpResult? Unavailable)> CheckExistAsync(NetworkClient network, Guid tenantId, List<string> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        var validator = new Validator();
        for (var i = 0; i < entries.Count; i++)
        {
            if (!Guid.TryParse(entries[i], out var id))
            {
                continue;
            }

            try
            {
                if (await network.ConnectionAsync(tenantId, id, cancellationToken) is null)
                {
                    validator.Add($"{Field}[{i}]", $"There is no network connection {id} in your tenant; list yours at /api/v1/onPremisesConnections.");
                }
            }
            catch (NetworkUnavailableException e)
            {
                return (null, Problems.DependencyUnavailable(
                    $"The policy names network connection {id}, and the network service, which knows the connections, cannot be asked now ({e.Message}). Nothing was changed; send the request again later."));
            }
        }

        return (validator.IsValid ? null : validator.ToProblem(), null);
    }

    private static string? Normalize(string? entry) =>
        entry is null ? null
        : string.Equals(entry.Trim(), NetworkClient.Hosted, StringComparison.OrdinalIgnoreCase) ? NetworkClient.Hosted
        : Guid.TryParse(entry, out var id) ? id.ToString("D")
        : null;
}
