using Microsoft.AspNetCore.Identity;

namespace Stratus.Identity.Accounts;

/// <summary>PBKDF2 password hashes (ASP.NET Core Identity's format, with its rehash signal).</summary>
public static class Passwords
{
    public const int MinimumLength = 12;

    private static readonly PasswordHasher<Account> Hasher = new();

    public static string Hash(string password) => Hasher.HashPassword(null!, password);

    /// <summary>Failed, Success, or SuccessRehashNeeded: the hash is of older parameters and should be made again.</summary>
    public static PasswordVerificationResult Verify(string hash, string password) => Hasher.VerifyHashedPassword(null!, hash, password);

    /// <summary>A password for a person to copy once: 20 characters without look-alikes.</summary>
    public static string Generate()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return System.Security.Cryptography.RandomNumberGenerator.GetString(alphabet, 20);
    }
}
