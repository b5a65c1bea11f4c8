using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Stratus.IntegrationTests.Support;

/// <summary>
/// Hand-made JWTs: forged ones, and ones signed with an instance's real key but with claims its identity
/// service would not issue today (expired, another role). Written out by hand so that the test does not
/// share the server's token library and its mistakes.
/// </summary>
internal static class Tokens
{
    public static string Sign(byte[] key, IReadOnlyDictionary<string, object> claims)
    {
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT", kid = "1" }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    /// <summary>An unsigned token ("alg": "none"), which a careless validator accepts.</summary>
    public static string Unsigned(IReadOnlyDictionary<string, object> claims) =>
        $"{Encode(JsonSerializer.SerializeToUtf8Bytes(new { alg = "none", typ = "JWT" }))}.{Encode(JsonSerializer.SerializeToUtf8Bytes(claims))}.";

    public static Dictionary<string, object> Claims(string name, string role, DateTimeOffset issuedAt, TimeSpan lifetime, Guid? tenant = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = "stratus",
            ["aud"] = "stratus-api",
            ["sub"] = Guid.NewGuid().ToString(),
            ["name"] = name,
            ["role"] = role,
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
            ["nbf"] = issuedAt.ToUnixTimeSeconds(),
            ["exp"] = (issuedAt + lifetime).ToUnixTimeSeconds(),
        };
        if (tenant is { } tid)
        {
            claims["tid"] = tid.ToString();
        }

        return claims;
    }

    /// <summary>The claims part of a token, decoded.</summary>
    public static JsonElement Payload(string token)
    {
        var part = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        return JsonDocument.Parse(Convert.FromBase64String(part)).RootElement.Clone();
    }

    /// <summary>The signing key of a `stratus up` instance, from the platform store in its data folder.</summary>
    public static async Task<byte[]> ReadSigningKeyAsync(string dataFolder)
    {
        var path = Path.Combine(dataFolder, "db", "platform.db");
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Value\" FROM secrets WHERE \"Name\" = 'token-signing-key'";
        var value = await command.ExecuteScalarAsync() as string;
        return Convert.FromBase64String(value ?? throw new InvalidOperationException($"No signing key in {path}"));
    }

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
