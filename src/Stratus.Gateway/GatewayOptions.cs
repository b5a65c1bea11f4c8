using System.Globalization;
using Microsoft.Extensions.Configuration;
using Stratus.Platform;

namespace Stratus.Gateway;

/// <summary>Stratus:Gateway.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Stratus:Gateway";

    /// <summary>
    /// The longest a connect ticket may live. A ticket is a bearer credential in a browser's hands (it travels as a
    /// WebSocket subprotocol, ConsoleTicketProtocol); a short life keeps a copy of it useless.
    /// </summary>
    public static readonly TimeSpan MaxTicketLifetime = TimeSpan.FromSeconds(60);

    /// <summary>How long a connect ticket can open the console; shorter suits tests and strict sites.</summary>
    public TimeSpan TicketLifetime { get; set; } = MaxTicketLifetime;

    /// <summary>
    /// This instance's address as the hosts reach it (http or https), where they dial back with a display of a VM on
    /// a separate host. Unset: the address the instance listens on, which suits one machine.
    /// </summary>
    public Uri? RelayUrl { get; set; }

    /// <summary>How long a console waits for the VM's host to dial back with the display.</summary>
    public TimeSpan RelayWait { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// This instance's name in the connection history (which instance served a console); default the machine's name,
    /// the same as the instance id in its telemetry. Behind a load balancer, give each instance its own.
    /// </summary>
    public string InstanceName { get; set; } = Environment.MachineName;

    /// <summary>This instance's availability zone, shown beside its name in the connection history; optional.</summary>
    public string? Zone { get; set; }

    /// <summary>Reads and checks the section; a bad value stops the start with one line that says what to set.</summary>
    public static GatewayOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        GatewayOptions options;
        try
        {
            options = configuration.GetSection(Section).Get<GatewayOptions>() ?? new GatewayOptions();
        }
        catch (InvalidOperationException e)
        {
            // The binder does not say which key it could not read: the one that does not parse.
            var section = configuration.GetSection(Section);
            var (key, what, example) = section[nameof(RelayWait)] is { } wait && !TimeSpan.TryParse(wait, CultureInfo.InvariantCulture, out _)
                ? (nameof(RelayWait), "a time span", "give seconds as 00:00:15")
                : section[nameof(RelayUrl)] is { } url && !Uri.TryCreate(url, UriKind.RelativeOrAbsolute, out _)
                    ? (nameof(RelayUrl), "a URL", "give this instance's address as http://10.0.0.5:5080/")
                    : (nameof(TicketLifetime), "a time span", "give seconds as 00:00:30");
            throw new ConfigurationException($"{Section}:{key} is not {what} ({e.InnerException?.Message ?? e.Message}); {example}.", e);
        }

        if (options.TicketLifetime <= TimeSpan.Zero || options.TicketLifetime > MaxTicketLifetime)
        {
            throw new ConfigurationException(
                $"{Section}:TicketLifetime is {options.TicketLifetime}; it must be more than 0 and at most {MaxTicketLifetime} (a ticket is a bearer credential). Set for example 00:00:30.");
        }

        if (options.RelayUrl is { } relay && (!relay.IsAbsoluteUri || relay.Scheme is not ("http" or "https")))
        {
            throw new ConfigurationException($"{Section}:RelayUrl is '{relay}'; it must be this instance's http:// or https:// address as the hosts reach it, for example http://10.0.0.5:5080/.");
        }

        if (options.RelayWait <= TimeSpan.Zero || options.RelayWait > TimeSpan.FromMinutes(1))
        {
            throw new ConfigurationException($"{Section}:RelayWait is {options.RelayWait}; it must be more than 0 and at most 00:01:00 (a person waits at the console).");
        }

        if (string.IsNullOrWhiteSpace(options.InstanceName) || options.InstanceName.Length > 128 || options.Zone is { Length: > 128 })
        {
            throw new ConfigurationException($"{Section}:InstanceName must be 1 to 128 characters and {Section}:Zone at most 128; name this instance, for example gw-1.");
        }

        return options;
    }
}
