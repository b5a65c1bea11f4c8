using System.Security.Cryptography;
using System.Text;

namespace Stratus.Gateway.Connect;

/// <summary>
/// Keeps a ticket's delegated relay token (ADR 0016) sealed with a key derived from the ticket's own secret, which the
/// gateway never stores (only its hash): the token can be opened only by whoever presents the ticket, on any gateway
/// instance, and a copy of the database holds nothing usable.
/// </summary>
internal static class RelayTokenSeal
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("stratus console ticket: relay token");

    public static string Seal(string token, string ticketSecret)
    {
        var plain = Encoding.UTF8.GetBytes(token);
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Key(ticketSecret), TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize));
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The token, or null when <paramref name="ticketSecret"/> is not the one it was sealed with.</summary>
    public static string? Open(string sealedToken, string ticketSecret)
    {
        var sealedBytes = Convert.FromBase64String(sealedToken);
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            return null;
        }

        var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(Key(ticketSecret), TagSize);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plain);
    }

    private static byte[] Key(string ticketSecret) => HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(ticketSecret), 32, salt: [], info: Purpose);
}
