using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

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
    public static JsonElement Payload(string token) => Part(token, 1);

    /// <summary>The header of a token (alg, kid), decoded.</summary>
    public static JsonElement Header(string token) => Part(token, 0);

    private static JsonElement Part(string token, int index)
    {
        var part = token.Split('.')[index].Replace('-', '+').Replace('_', '/');
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

    /// <summary>
    /// Opens a sealed signing key as an attacker with the store and the master key would: each key of identity's
    /// data protection ring opened with the master key (AES-256-GCM), then the sealed value with that ring.
    /// </summary>
    private static async Task<byte[]> UnsealAsync(string dataFolder, string stored)
    {
        var masterKey = Convert.FromBase64String((await File.ReadAllTextAsync(Path.Combine(dataFolder, "identity", "master.key"))).Trim());
        var ring = new List<XElement>();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(dataFolder, "db", "identity.db")};Mode=ReadOnly;Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT \"Xml\" FROM \"DataProtectionKeys\"";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var key = XElement.Parse(reader.GetString(0));
                foreach (var sealedSecret in key.Descendants().Where(e => e.Name.LocalName == "encryptedSecret").ToList())
                {
                    var element = sealedSecret.Element("sealedKey")!;
                    var nonce = Convert.FromBase64String((string)element.Element("nonce")!);
                    var tag = Convert.FromBase64String((string)element.Element("tag")!);
                    var value = Convert.FromBase64String((string)element.Element("value")!);
                    var plain = new byte[value.Length];
                    using var aes = new AesGcm(masterKey, tag.Length);
                    aes.Decrypt(nonce, value, tag, plain);
                    sealedSecret.ReplaceWith(XElement.Parse(Encoding.UTF8.GetString(plain)));
                }

                ring.Add(key);
            }
        }

        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("stratus-identity")
            .AddKeyManagementOptions(options => options.XmlRepository = new ReadOnlyRing(ring));
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("Stratus.Identity.SigningKey.v1").Unprotect(Convert.FromBase64String(stored));
    }

    private sealed class ReadOnlyRing(IReadOnlyCollection<XElement> keys) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements() => keys;

        public void StoreElement(XElement element, string friendlyName) => throw new InvalidOperationException("The test only reads the ring.");
    }

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
