using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Stratus.HostAgent.Agent;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// The pin of the control plane's certificate or of its CA (issue 17, item 6), with real certificates and chains:
/// the server's own key, or a CA key its chain verifies up to with the right name; never a look-alike.
/// </summary>
public sealed class ControlPlanePinTests
{
    [Fact]
    public void A_pin_parses_only_as_sha256_and_64_hex_digits_and_is_the_hash_of_the_public_key()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = SelfSigned("CN=control plane", key);
        var pin = ControlPlanePin.Of(certificate);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())), pin.Value);
        Assert.True(ControlPlanePin.TryParse(pin.Value.ToUpperInvariant().Replace("SHA256:", "sha256:", StringComparison.Ordinal), out var parsed));
        Assert.Equal(pin, parsed);
        Assert.False(ControlPlanePin.TryParse("sha1:" + new string('a', 40), out _));
        Assert.False(ControlPlanePin.TryParse("sha256:" + new string('g', 64), out _));
        Assert.False(ControlPlanePin.TryParse("sha256:" + new string('a', 63), out _));
    }

    [Fact]
    public void The_servers_own_certificate_matches_whatever_its_name_and_another_key_does_not()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = SelfSigned("CN=control plane", key);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var impostor = SelfSigned("CN=control plane", otherKey);
        var pin = ControlPlanePin.Of(certificate);
        var errors = SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch;
        Assert.True(pin.Matches(certificate, null, errors));
        Assert.False(pin.Matches(impostor, null, errors));
        Assert.False(pin.Matches(null, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void A_ca_pin_matches_a_server_certificate_the_ca_signed_with_the_right_name_but_not_one_signed_by_a_look_alike_ca()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = Authority("CN=Stratus CA", caKey);
        using var lookAlikeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var lookAlike = Authority("CN=Stratus CA", lookAlikeKey);
        var pin = ControlPlanePin.Of(ca);

        using var server = Issued(ca, caKey);
        using (var chain = ChainOf(server, ca))
        {
            Assert.True(pin.Matches(server, chain, SslPolicyErrors.RemoteCertificateChainErrors));
            Assert.False(pin.Matches(server, chain, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
        }

        // Signed by another key under the same CA name; the real CA's certificate offered beside it does not verify it.
        using var forged = Issued(lookAlike, lookAlikeKey);
        using (var chain = ChainOf(forged, ca))
        {
            Assert.False(pin.Matches(forged, chain, SslPolicyErrors.RemoteCertificateChainErrors));
        }
    }

    private static X509Certificate2 SelfSigned(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var now = TimeProvider.System.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    private static X509Certificate2 Authority(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = TimeProvider.System.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }

    private static X509Certificate2 Issued(X509Certificate2 issuer, ECDsa issuerKey)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=control.example", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var now = TimeProvider.System.GetUtcNow();
        using var issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), now.AddMinutes(-1), now.AddHours(1), [1, 2, 3, 4]);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The chain as TLS builds it: the CA comes from what the server sends, the machine does not trust it.</summary>
    private static X509Chain ChainOf(X509Certificate2 server, X509Certificate2 offeredCa)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ExtraStore.Add(offeredCa);
        chain.Build(server);
        return chain;
    }
}
