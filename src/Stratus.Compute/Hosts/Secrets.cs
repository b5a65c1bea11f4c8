using System.Security.Cryptography;
using System.Text;

namespace Stratus.Compute.Hosts;

/// <summary>Random bearer secrets for agents, stored only as SHA-256 hashes.</summary>
internal static class Secrets
{
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
