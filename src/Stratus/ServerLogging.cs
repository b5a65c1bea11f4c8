namespace Stratus;

/// <summary>
/// What `stratus up` prints after its banner: warnings, errors and the few events a person at the terminal should
/// know of; every other line (each request, the host agents' polls) only with --verbose.
/// </summary>
internal static class ServerLogging
{
    /// <summary>
    /// Categories whose every Information event is news for a person: a host agent came up (and how many VMs it
    /// adopted), the embedded hosts started, which accelerator VMs run under, a store was migrated, an uploaded
    /// image was accepted or refused. A Cloud PC that failed and a host that went down are warnings, shown anyway.
    /// </summary>
    public static readonly IReadOnlyList<string> PersonShouldKnow =
    [
        "Stratus.HostAgent.Agent.HostAgentService",
        "Stratus.EmbeddedHosts",
        "Stratus.HostAgent.Drivers.Qemu.Accelerator",
        "Stratus.Platform.Persistence.MigrateDatabase",
        "Stratus.Images.DeviceImages.DeviceImageContentUploadedHandler",
    ];

    /// <summary>The category of ASP.NET's request lines: off unless asked for (`up --verbose`, or configuration).</summary>
    public const string RequestLines = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Lowers every rule that lets Information or finer through to Warning, except the categories of
    /// <see cref="PersonShouldKnow"/>. Rules are rewritten after everything else configured them (configuration may
    /// let request lines through), so none of them wins over this.
    /// </summary>
    public static void MakeQuiet(ILoggingBuilder logging)
    {
        logging.Services.PostConfigure<LoggerFilterOptions>(options =>
        {
            // The allow-list's rules come last and are the most specific for their categories, so they win.
            var rules = options.Rules
                .Select(rule => rule.LogLevel is { } level && level < LogLevel.Warning && level != LogLevel.None
                    ? new LoggerFilterRule(rule.ProviderName, rule.CategoryName, LogLevel.Warning, rule.Filter)
                    : rule)
                .Concat(PersonShouldKnow.Select(category => new LoggerFilterRule(null, category, LogLevel.Information, null)))
                .ToList();
            options.Rules.Clear();
            foreach (var rule in rules)
            {
                options.Rules.Add(rule);
            }

            options.MinLevel = LogLevel.Warning;
        });
    }
}
