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
internal sealed record SigningKey(ECDsa Key, string Kid)
{
    /// <summary>A key of nobody's, presented under the name of a real one.</summary>
    public static SigningKey Forged(string kid) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), kid);
}

internal static class Tokens
{
    /// <summary>An ES256 token (RFC 7515: the signature is r and s, 32 bytes each) naming the key <paramref name="kid"/>.</summary>
    public static string Sign(SigningKey key, IReadOnlyDictionary<string, object> claims)
    {
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new { alg = "ES256", typ = "JWT", kid = key.Kid }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = Encode(key.Key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        return $"{header}.{payload}.{signature}";
    }

    /// <summary>The old shared-secret kind of token (HS256), which no instance accepts any more.</summary>
    public static string SignHmac(byte[] secret, IReadOnlyDictionary<string, object> claims)
    {
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT", kid = "1" }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        return $"{header}.{payload}.{Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes($"{header}.{payload}")))}";
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

    /// <summary>
    /// The current signing key of a `stratus up` instance's identity service, from the platform store in its data
    /// folder: what an attacker holding that store and the master key would have.
    /// </summary>
    public static async Task<SigningKey> ReadSigningKeyAsync(string dataFolder)
    {
        var path = Path.Combine(dataFolder, "db", "platform.db");
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Name\", \"Value\" FROM secrets WHERE \"Name\" LIKE 'identity-signing-key/%' ORDER BY length(\"Name\") DESC, \"Name\" DESC LIMIT 1";
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new InvalidOperationException($"No signing key in {path}");
        }

        var kid = "k" + reader.GetString(0)["identity-signing-key/".Length..];
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(await UnsealAsync(dataFolder, reader.GetString(1)), out _);
        return new SigningKey(key, kid);
    }

    private static Task<byte[]> UnsealAsync(string dataFolder, string stored) => Task.FromResult(Convert.FromBase64String(stored));

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
