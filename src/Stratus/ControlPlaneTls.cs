using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Stratus.HostAgent.Agent;
using Stratus.Platform;

namespace Stratus;

/// <summary>
/// `stratus up --tls`: HTTPS with a certificate made on first start and kept in DATA/tls (reused by every
/// restart, so hosts enrolled with its pin keep trusting it). It is self-signed: no one trusts it by default,
/// and hosts pin it instead (`stratus host --control-plane-cert-hash`, the pin printed in the banner).
/// </summary>
internal sealed class ControlPlaneTls
{
    private const string FileName = "control-plane.pfx";
    private static readonly TimeSpan Validity = TimeSpan.FromDays(3650);

    private ControlPlaneTls(X509Certificate2 certificate, string file)
    {
        Certificate = certificate;
        File = file;
        Pin = ControlPlanePin.Of(certificate);
    }

    public X509Certificate2 Certificate { get; }

    public string File { get; }

    public ControlPlanePin Pin { get; }

    /// <summary>Loads DATA/tls/control-plane.pfx, or makes it for the names and addresses this server is reached by.</summary>
    public static ControlPlaneTls LoadOrCreate(string dataFolder, string urls)
    {
        var folder = Path.Combine(dataFolder, "tls");
        var file = Path.Combine(folder, FileName);
        try
        {
            if (System.IO.File.Exists(file))
            {
                return new ControlPlaneTls(X509CertificateLoader.LoadPkcs12FromFile(file, null), file);
            }

            Directory.CreateDirectory(folder);
            using var created = Create(urls);
            var pfx = created.Export(X509ContentType.Pkcs12);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // The private key: readable by this user only, as the operator's first password is.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(file, options))
            {
                stream.Write(pfx);
            }

            return new ControlPlaneTls(X509CertificateLoader.LoadPkcs12(pfx, null), file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ConfigurationException($"--tls: cannot use the certificate {file}: {e.Message.TrimEnd('.')}. Fix its permissions, or remove it to make a new one (hosts then need the new pin).", e);
        }
    }

    /// <summary>--urls served over HTTPS: http:// becomes https:// on the same address and port.</summary>
    public static string Secure(string urls) => string.Join(';', urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(url => url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "https://" + url["http://".Length..] : url));

    /// <summary>
    /// This process's own calls to itself (one service to another at its own address) trust its certificate as
    /// well as the machine's store.
    /// </summary>
    public void TrustOwnCertificate(HttpMessageHandler handler) =>
        ServiceTls.Validate(handler, (_, certificate, chain, errors) => errors == SslPolicyErrors.None || Pin.Matches(certificate, chain, errors));

    private static X509Certificate2 Create(string urls)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=Stratus control plane ({Environment.MachineName})", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(Environment.MachineName);
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            {
                if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
                {
                    if (!address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any))
                    {
                        names.AddIpAddress(address);
                    }
                }
                else if (uri.Host is not ("localhost" or ""))
                {
                    names.AddDnsName(uri.Host);
                }
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = TimeProvider.System.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(Validity));
    }
}
