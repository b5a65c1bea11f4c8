using Microsoft.Extensions.Configuration;
using Stratus.Platform;

namespace Stratus.Gateway;

/// <summary>Stratus:Gateway.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Stratus:Gateway";

    /// <summary>
    /// The longest a connect ticket may live. A ticket travels in a URL (browsers cannot send headers on a
    /// WebSocket), where proxies and histories may keep it; a short life keeps such a copy useless.
    /// </summary>
    public static readonly TimeSpan MaxTicketLifetime = TimeSpan.FromSeconds(60);

    /// <summary>How long a connect ticket can open the console; shorter suits tests and strict sites.</summary>
    public TimeSpan TicketLifetime { get; set; } = MaxTicketLifetime;

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
            throw new ConfigurationException($"{Section}:TicketLifetime is not a time span ({e.InnerException?.Message ?? e.Message}); give seconds as 00:00:30.", e);
        }

        if (options.TicketLifetime <= TimeSpan.Zero || options.TicketLifetime > MaxTicketLifetime)
        {
            throw new ConfigurationException(
                $"{Section}:TicketLifetime is {options.TicketLifetime}; it must be more than 0 and at most {MaxTicketLifetime} (a ticket travels in a URL). Set for example 00:00:30.");
        }

        return options;
    }
}
