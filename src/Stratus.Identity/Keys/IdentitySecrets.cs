using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Persistence;

namespace Stratus.Identity.Keys;

/// <summary>
/// Identity's secrets at rest (signing keys, LDAP bind passwords) are sealed with ASP.NET Data Protection whose
/// key ring lives in identity's store, every key of it encrypted with the master key: any identity instance of
/// the deployment opens them, a copy of the database alone does not. Kept apart from the cookies' key ring,
/// which every process serving a portal holds.
/// </summary>
public sealed class IdentitySecrets : IDisposable
{
    private readonly ServiceProvider ring;
    private readonly IDataProtectionProvider provider;

    public IdentitySecrets(IServiceProvider services, MasterKey masterKey, ILoggerFactory loggers)
    {
        var ringServices = new ServiceCollection();
        ringServices.AddSingleton(masterKey);
        ringServices.AddSingleton(loggers);
        ringServices.AddDataProtection()
            .SetApplicationName("stratus-identity")
            .AddKeyManagementOptions(options =>
            {
                options.XmlRepository = new EntityFrameworkCoreXmlRepository<IdentityDbContext>(services, loggers);
                options.XmlEncryptor = new MasterKeyXmlEncryptor(masterKey);
            });
        ring = ringServices.BuildServiceProvider();
        provider = ring.GetRequiredService<IDataProtectionProvider>();
    }

    public IDataProtector For(string purpose) => provider.CreateProtector(purpose);

    private const string SigningKeyPurpose = "Stratus.Identity.SigningKey.v1";

    /// <summary>A signing key's private half, sealed, as the platform store keeps it.</summary>
    public string Protect(byte[] secret) => Convert.ToBase64String(For(SigningKeyPurpose).Protect(secret));

    public byte[] Unprotect(string stored) => For(SigningKeyPurpose).Unprotect(Convert.FromBase64String(stored));

    public void Dispose() => ring.Dispose();
}
