using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Stratus.Platform;

namespace Stratus;

/// <summary>The files of `stratus run --tls-cert --tls-key --ca-cert`, as given (each may be absent).</summary>
internal sealed record ServiceTlsFiles(string? Certificate, string? Key, string? CertificateAuthority)
{
    public bool Any => Certificate is not null || Key is not null || CertificateAuthority is not null;
}

/// <summary>
/// HTTPS for a service run apart (`stratus run`, ADR 0013): the process serves its --urls over HTTPS only, with a
/// certificate and key from PEM files a deployment's CA issued, and sends the certificates after the first in the
/// certificate file (its issuing CA) so that host agents can pin that CA. Its own calls (to other services'
/// instances, identity's JWKS, the revocation poll) trust the --ca-cert CA besides the machine's store.
/// </summary>
internal sealed class ServiceTls
{
    private ServiceTls(X509Certificate2? certificate, X509Certificate2Collection chain, X509Certificate2Collection authorities)
    {
        Certificate = certificate;
        Chain = chain;
        Authorities = authorities;
    }

    /// <summary>The server's certificate with its key; null when the process only calls others over HTTPS.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The issuers the server sends after its own certificate.</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>The CAs the process's outgoing calls trust besides the machine's store.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>Reads the files; every flaw is one line naming the option and the file.</summary>
    public static ServiceTls? Load(ServiceTlsFiles files)
    {
        if (!files.Any)
        {
            return null;
        }

        if ((files.Certificate is null) != (files.Key is null))
        {
            throw new ConfigurationException("--tls-cert and --tls-key go together: the server's certificate and its private key, both PEM files.");
        }

        X509Certificate2? certificate = null;
        var chain = new X509Certificate2Collection();
        if (files.Certificate is not null && files.Key is not null)
        {
            var certificatePem = ReadPem("--tls-cert", files.Certificate);
            var keyPem = ReadPem("--tls-key", files.Key);
            chain = Certificates("--tls-cert", files.Certificate, certificatePem);
            try
            {
                certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            }
            catch (CryptographicException e)
            {
                throw new ConfigurationException($"--tls-key {files.Key} is not the private key of the certificate in --tls-cert {files.Certificate} "
                    + $"(or not a PEM private key): {e.Message.TrimEnd('.')}.", e);
            }

            chain.RemoveAt(0);
        }

        var authorities = files.CertificateAuthority is null
            ? []
            : Certificates("--ca-cert", files.CertificateAuthority, ReadPem("--ca-cert", files.CertificateAuthority));
        return new ServiceTls(certificate, chain, authorities);
    }

    /// <summary>Makes <paramref name="handler"/>'s HTTPS calls trust <see cref="Authorities"/> as well as the machine's store.</summary>
    public void TrustAuthorities(HttpMessageHandler handler)
    {
        if (Authorities.Count > 0)
        {
            Validate(handler, TrustedByAuthorities);
        }
    }

    /// <summary>Sets the certificate validation of an HttpClient's primary handler, whichever kind it is.</summary>
    public static void Validate(HttpMessageHandler handler, RemoteCertificateValidationCallback validate)
    {
        switch (handler)
        {
            case SocketsHttpHandler sockets:
                sockets.SslOptions.RemoteCertificateValidationCallback = validate;
                break;
            case HttpClientHandler client:
                client.ServerCertificateCustomValidationCallback = (message, certificate, chain, errors) => validate(message, certificate, chain, errors);
                break;
        }
    }

    /// <summary>
    /// The machine's store said no: the server's chain is built again with the deployment's CAs as the only roots.
    /// A name that does not match is never excused.
    /// </summary>
    private bool TrustedByAuthorities(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        foreach (var element in presented?.ChainElements.Skip(1) ?? [])
        {
            chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static string ReadPem(string option, string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message.TrimEnd('.');
            throw new ConfigurationException($"{option} {file}: cannot read it: {reason}.", e);
        }
    }

    private static X509Certificate2Collection Certificates(string option, string file, string pem)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new ConfigurationException($"{option} {file} is not a PEM certificate: {e.Message.TrimEnd('.')}.", e);
        }

        return certificates.Count > 0 ? certificates : throw new ConfigurationException($"{option} {file} holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
    }
}
