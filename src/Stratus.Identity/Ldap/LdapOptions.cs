using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Stratus.Identity.Keys;

namespace Stratus.Identity.Ldap;

/// <summary>Stratus:Ldap: the limits of LDAP sync for every tenant.</summary>
public sealed class LdapOptions
{
    public const string Section = "Stratus:Ldap";

    /// <summary>The shortest sync interval a tenant may choose.</summary>
    public TimeSpan MinimumSyncInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one LDAP operation (bind, one page of a search) may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one sync may hold its tenant's lease before another instance may start one.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// The bind password, sealed with identity's own key ring (shared by every identity instance through the store,
/// Keys/IdentitySecrets) under a purpose of its own. A password sealed before with the data folder's key ring
/// is still read, until it is next set.
/// </summary>
public sealed class LdapSecrets(IdentitySecrets secrets, IDataProtectionProvider dataFolderRing)
{
    private const string Purpose = "Stratus.Identity.Ldap.BindPassword.v1";

    private readonly IDataProtector protector = secrets.For(Purpose);

    public string Protect(string password) => protector.Protect(password);

    /// <summary>Throws <see cref="CryptographicException"/> when the keys changed.</summary>
    public string Unprotect(string protectedPassword)
    {
        try
        {
            return protector.Unprotect(protectedPassword);
        }
        catch (CryptographicException)
        {
            return dataFolderRing.CreateProtector(Purpose).Unprotect(protectedPassword);
        }
    }
}
