using Microsoft.AspNetCore.DataProtection;

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

/// <summary>The bind password, protected with the platform's Data Protection keys under a purpose of its own.</summary>
public sealed class LdapSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector protector = provider.CreateProtector("Stratus.Identity.Ldap.BindPassword.v1");

    public string Protect(string password) => protector.Protect(password);

    /// <summary>Throws <see cref="System.Security.Cryptography.CryptographicException"/> when the keys changed.</summary>
    public string Unprotect(string protectedPassword) => protector.Unprotect(protectedPassword);
}
