using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Stratus.IntegrationTests.Support;

/// <summary>
/// A TLS server on 127.0.0.1 with a self-signed certificate of its own, standing in for a machine that took over the
/// control plane's address: it counts the requests that reach it through TLS (a pinned agent sends none: it refuses the
/// certificate in the handshake, before its agent token or anything else is sent).
/// </summary>
public sealed class ImpostorTlsServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 certificate;
    private readonly CancellationTokenSource stopping = new();
    private int connections;
    private int requests;

    private ImpostorTlsServer()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Stratus control plane (impostor)", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(TimeProvider.System.GetUtcNow().AddMinutes(-5), TimeProvider.System.GetUtcNow().AddDays(1));
        certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        Pin = PinOf(certificate);
        listener.Start();
        Url = new Uri($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        _ = AcceptAsync();
    }

    public Uri Url { get; }

    public string Pin { get; }

    public int Connections => Volatile.Read(ref connections);

    public int Requests => Volatile.Read(ref requests);

    public static ImpostorTlsServer Start() => new();

    /// <summary>"sha256:" and the hex SHA-256 of the certificate's SubjectPublicKeyInfo, as kubeadm's CA hash.</summary>
    public static string PinOf(X509Certificate2 certificate) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    public void Dispose()
    {
        stopping.Cancel();
        listener.Stop();
        certificate.Dispose();
        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref connections);
            _ = HandshakeAsync(client);
        }
    }

    private async Task HandshakeAsync(TcpClient client)
    {
        using var _ = client;
        await using var tls = new SslStream(client.GetStream());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, timeout.Token);
            // Under TLS 1.3 the server may finish its side before the client has judged the certificate: what counts
            // is whether a request follows.
            if (await tls.ReadAsync(new byte[4096], timeout.Token) > 0)
            {
                Interlocked.Increment(ref requests);
            }
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or ObjectDisposedException)
        {
            // The client refused the certificate: what a pinned agent does.
        }
    }
}
