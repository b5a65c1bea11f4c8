using System.Net.Security;
using Stratus.HostAgent.Agent;

namespace Stratus.Client;

/// <summary>
/// `stratus login --cert-hash sha256:HEX`: the CLI trusts the server that shows this pin (its own certificate's key,
/// or a CA's in the chain it sends), as a host agent does (<see cref="ControlPlanePin"/>): the self-signed certificate
/// of `stratus up --tls`, whose banner prints the pin, without making the whole machine trust it.
/// </summary>
internal sealed class PinnedServer(ControlPlanePin pin)
{
    public ControlPlanePin Pin { get; } = pin;

    /// <summary>The pin of the certificate last refused, to say which key the server showed.</summary>
    public string? Refused { get; private set; }

    /// <param name="source">Where the text comes from (the option, or the saved login's file), for the error.</param>
    public static PinnedServer Parse(string text, string source) => ControlPlanePin.TryParse(text, out var pin)
        ? new PinnedServer(pin)
        : throw new ClientException($"{source}: '{text}' is not a certificate pin: use sha256: and 64 hex digits, as `stratus up --tls` prints it.");

    /// <summary>A handler that trusts only the pinned server; without a pin, the machine's store.</summary>
    public static SocketsHttpHandler Handler(PinnedServer? pinned)
    {
        var handler = new SocketsHttpHandler();
        if (pinned is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = pinned.Validate;
        }

        return handler;
    }

    private bool Validate(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate,
        System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors)
    {
        if (Pin.Matches(certificate, chain, errors))
        {
            return true;
        }

        Refused = certificate is null ? "none" : ControlPlanePin.Of(certificate).Value;
        return false;
    }
}
