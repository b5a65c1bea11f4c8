using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform;
using Stratus.Platform.Http;

namespace Stratus.Identity.Keys;

/// <summary>
/// The 256-bit key that seals identity's data protection key ring. From the environment variable
/// STRATUS_MASTER_KEY (base64), else the file Stratus:Identity:MasterKeyFile names (base64), else the file
/// DATA/identity/master.key, generated on first start (all-in-one `stratus up`). Every identity instance of a
/// deployment needs the same one; no other service needs it.
/// </summary>
public sealed class MasterKey(byte[] key)
{
    public const string EnvironmentVariable = "STRATUS_MASTER_KEY";
    public const string FileSetting = "Stratus:Identity:MasterKeyFile";

    internal byte[] Key { get; } = key.Length == 32 ? key : throw new Platform.ConfigurationException("The master key must be 32 bytes (base64 of 44 characters).");

    public static MasterKey Read(IConfiguration configuration, string dataFolder)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return new MasterKey(Decode(fromEnvironment, EnvironmentVariable));
        }

        if (configuration[FileSetting] is { Length: > 0 } path)
        {
            return File.Exists(path)
                ? new MasterKey(Decode(File.ReadAllText(path), path))
                : throw new Platform.ConfigurationException($"{FileSetting}: no file at {path}.");
        }

        var generated = Path.Combine(dataFolder, "identity", "master.key");
        return new MasterKey(Decode(SecretFile.ReadOrCreate(generated, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))), generated));
    }

    private static byte[] Decode(string text, string source)
    {
        try
        {
            return Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new Platform.ConfigurationException($"The master key in {source} is not base64.");
        }
    }
}

/// <summary>Seals a data protection key with the master key (AES-256-GCM).</summary>
internal sealed class MasterKeyXmlEncryptor(MasterKey masterKey) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var plain = System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var sealedBytes = new byte[plain.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(masterKey.Key, tag.Length))
        {
            aes.Encrypt(nonce, plain, sealedBytes, tag);
        }

        var element = new XElement("sealedKey", new XElement("nonce", Convert.ToBase64String(nonce)), new XElement("tag", Convert.ToBase64String(tag)),
            new XElement("value", Convert.ToBase64String(sealedBytes)));
        return new EncryptedXmlInfo(element, typeof(MasterKeyXmlDecryptor));
    }
}

/// <summary>Opens what <see cref="MasterKeyXmlEncryptor"/> sealed; a wrong master key throws.</summary>
internal sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var key = services.GetRequiredService<MasterKey>().Key;
        var nonce = Convert.FromBase64String((string)encryptedElement.Element("nonce")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Element("tag")!);
        var sealedBytes = Convert.FromBase64String((string)encryptedElement.Element("value")!);
        var plain = new byte[sealedBytes.Length];
        using (var aes = new AesGcm(key, tag.Length))
        {
            try
            {
                aes.Decrypt(nonce, sealedBytes, tag, plain);
            }
            catch (AuthenticationTagMismatchException e)
            {
                // Most likely a second identity instance that generated a master key of its own in its data folder.
                throw new ConfigurationException("identity's key ring in the database was sealed with another master key: give every identity instance of "
                    + $"this database the same one, in {MasterKey.EnvironmentVariable} or the file of {MasterKey.FileSetting} (docs/adr/0009-asymmetric-tokens.md).", e);
            }
        }

        return XElement.Parse(System.Text.Encoding.UTF8.GetString(plain));
    }
}
