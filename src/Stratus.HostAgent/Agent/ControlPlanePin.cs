using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// The control plane's certificate as a host learns it at enrollment, like kubeadm's --discovery-token-ca-cert-hash:
/// "sha256:" and the hex SHA-256 of a certificate's SubjectPublicKeyInfo, the server's own or that of a CA in the
/// chain it sends. Pinned, the agent talks to a server that shows it and to no other, whatever the machine's trust
/// store says: a self-signed control plane is trusted without being trusted by the whole machine, and a server that
/// took over the control plane's address or name is refused.
/// </summary>
public sealed record ControlPlanePin
{
    public const string Prefix = "sha256:";

    private ControlPlanePin(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? text, [NotNullWhen(true)] out ControlPlanePin? pin)
    {
        pin = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || text.Length != Prefix.Length + 64)
        {
            return false;
        }

        var hex = text[Prefix.Length..];
        if (!hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        pin = new ControlPlanePin(Prefix + hex.ToLowerInvariant());
        return true;
    }

    public static ControlPlanePin Of(X509Certificate certificate)
    {
        using var owned = new X509Certificate2(certificate);
        return new ControlPlanePin(Prefix + Convert.ToHexStringLower(SHA256.HashData(owned.PublicKey.ExportSubjectPublicKeyInfo())));
    }

    public override string ToString() => Value;

    /// <summary>The pin kept in an enrolled host's agent.json; null when it has none (or is not enrolled).</summary>
    public static ControlPlanePin? Enrolled(string dataFolder)
    {
        var path = Path.Combine(dataFolder, HostAgentService.IdentityFile);
        if (!File.Exists(path))
        {
            return null;
        }

        using var identity = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        return identity.RootElement.TryGetProperty("controlPlaneCertificatePin", out var kept) && kept.ValueKind == System.Text.Json.JsonValueKind.String
            ? TryParse(kept.GetString(), out var pin) ? pin : throw new InvalidOperationException($"{path} has a control-plane pin that is not sha256:HEX: '{kept.GetString()}'.")
            : null;
    }

    /// <summary>
    /// True when the server's own certificate is the pinned one (its name and issuer do not matter: the pin is the
    /// trust), or when a CA in its chain is, the chain verifies up to it and the server's name matches.
    /// </summary>
    public bool Matches(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }

        if (Of(certificate) == this)
        {
            return true;
        }

        if (chain is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        // Untrusted by the machine is expected of a private CA; any other flaw of the chain (a signature that does
        // not verify, an expired certificate) is not excused by the pin.
        // A chain that stops short of a root (PartialChain) is excused too: a server never sends its self-signed
        // root, so a pinned CA is an issuing CA the server sends, and the pin, not a root, is the anchor.
        var excused = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation
            | X509ChainStatusFlags.PartialChain;
        return chain.ChainElements.Skip(1).Any(element => Of(element.Certificate) == this)
            && chain.ChainStatus.All(status => (status.Status & ~excused) == X509ChainStatusFlags.NoError);
    }

    /// <summary>A validation callback that accepts only a server showing this pin, and logs any other it refuses.</summary>
    public RemoteCertificateValidationCallback Validator(ILogger logger) => (sender, certificate, chain, errors) =>
    {
        if (Matches(certificate, chain, errors))
        {
            return true;
        }

        ControlPlanePinLog.Refused(logger, (sender as SslStream)?.TargetHostName ?? "the control plane", certificate is null ? "none" : Of(certificate).Value, Value);
        return false;
    };

    /// <summary>An HTTP handler for the agent's calls to its control plane: pinned when a pin is given, else the machine's trust.</summary>
    public static SocketsHttpHandler Handler(ControlPlanePin? pin, ILogger logger)
    {
        var handler = new SocketsHttpHandler();
        if (pin is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = pin.Validator(logger);
        }

        return handler;
    }
}

internal static partial class ControlPlanePinLog
{
    [LoggerMessage(EventId = 4201, Level = LogLevel.Error, Message = "Refused the TLS connection to {Server}: its certificate's key is {Presented}, not {Pinned}, the control plane's "
        + "pin this host was given at enrollment (--control-plane-cert-hash, kept in agent.json). Another server answers at that address, or the control plane's "
        + "certificate changed; if it did on purpose, give the host the new pin")]
    public static partial void Refused(ILogger logger, string server, string presented, string pinned);
}
