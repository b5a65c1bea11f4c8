using System.Security.Cryptography;

namespace Stratus.Testing;

/// <summary>
/// What a distributed deployment gives every instance of one database (ADR 0010, deploy/local-region/up.sh): the same
/// master key and the same client secret per service. Instances with data folders of their own would otherwise each
/// generate theirs, and could not read each other's key ring or tokens, as two real machines could not.
/// </summary>
public static class DeploymentSecrets
{
    private static readonly string[] Clients = ["identity", "diagnostics", "compute", "provisioning", "gateway", "portal", "images"];

    private static readonly Dictionary<string, string?> Variables = Clients
        .Select(client => new KeyValuePair<string, string?>($"Stratus__Clients__{client}__Secret", Convert.ToHexString(RandomNumberGenerator.GetBytes(32))))
        .Append(new("STRATUS_MASTER_KEY", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))))
        .ToDictionary();

    /// <summary>The shared secrets, with <paramref name="settings"/> on top.</summary>
    public static Dictionary<string, string?> With(IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(Variables);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return all;
    }
}
