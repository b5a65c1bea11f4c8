namespace Stratus.Identity.Keys;

/// <summary>Identity's secrets at rest (signing keys, the LDAP bind password), sealed before they are stored.</summary>
public sealed class IdentitySecrets
{
    public string Protect(byte[] secret) => Convert.ToBase64String(secret);

    public byte[] Unprotect(string stored) => Convert.FromBase64String(stored);
}
