using System.CommandLine;
using System.Reflection;
using Stratus.Platform;

namespace Stratus;

internal static class ServerCommands
{
    private const string DefaultUrls = "http://127.0.0.1:8080";
    private const string DefaultData = "./.stratus";

    public static Command Up()
    {
        var data = DataOption();
        var urls = UrlsOption();
        var hosts = new Option<string>("--hosts")
        {
            Description = "The embedded host of each region: qemu (real VMs), simulated (fake VMs, for scale tests) or none.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STRATUS_HOSTS") ?? "qemu",
        };
        hosts.AcceptOnlyFromAmong("qemu", "simulated", "none");
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Log every event (each request, the host agents' polls); without it, after the banner only warnings, errors and what you should know.",
        };
        var tls = new Option<bool>("--tls")
        {
            Description = "Serve --urls over HTTPS (http:// becomes https://) with a certificate made on first start and kept in DATA/tls; "
                + "the banner prints its pin for `stratus host --control-plane-cert-hash`. Without it, plain HTTP: keep that to loopback.",
        };
        var command = new Command("up", "Run all of Stratus in one process with embedded defaults: SQLite and local queues in the data folder, and a host per region.")
        {
            data,
            urls,
            hosts,
            tls,
            verbose,
        };
        command.SetAction((result, cancellationToken) => Server.RunAsync(new ServerOptions(
            Targets: "all",
            Database: null,
            DataFolder: result.GetValue(data)!,
            Urls: result.GetValue(urls)!,
            EmbeddedHosts: result.GetValue(hosts)!,
            Verbose: result.GetValue(verbose),
            Tls: result.GetValue(tls),
            RequestLines: result.GetValue(verbose)), cancellationToken));
        return command;
    }

    public static Command Run()
    {
        var targets = new Option<string>("--targets")
        {
            Description = $"The services to run, comma-separated, or all: {string.Join(", ", Services.All.Select(s => s.Name))}; or {Services.FrontDoor.Name} (never part of all), the front door of two regions.",
            Required = true,
        };
        var database = new Option<string?>("--database")
        {
            Description = "sqlite:FOLDER (one file per service in FOLDER) or a PostgreSQL connection string. Default: sqlite:DATA/db.",
        };
        var data = DataOption();
        var urls = UrlsOption();
        var tlsCertificate = new Option<string?>("--tls-cert")
        {
            Description = "Serve --urls over HTTPS only (http:// becomes https://) with this PEM certificate; its issuers may follow it in the file "
                + "and are sent with it (a host agent pins the CA, --control-plane-cert-hash). Needs --tls-key.",
        };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The PEM private key of --tls-cert." };
        var certificateAuthority = new Option<string?>("--ca-cert")
        {
            Description = "A PEM file of CA certificates this process's own calls (other services' instances, identity's keys) trust besides the machine's store.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STRATUS_CA_CERT") is { Length: > 0 } file ? file : null,
        };
        var command = new Command("run", "Run a subset of the services, so that the same binary runs as separate services.")
        {
            targets,
            database,
            data,
            urls,
            tlsCertificate,
            tlsKey,
            certificateAuthority,
        };
        command.SetAction((result, cancellationToken) => Server.RunAsync(new ServerOptions(
            Targets: result.GetValue(targets)!,
            Database: result.GetValue(database),
            DataFolder: result.GetValue(data)!,
            Urls: result.GetValue(urls)!,
            EmbeddedHosts: "none",
            Verbose: true,
            Tls: false,
            RequestLines: false,
            TlsFiles: new ServiceTlsFiles(result.GetValue(tlsCertificate), result.GetValue(tlsKey), result.GetValue(certificateAuthority))), cancellationToken));
        return command;
    }

    public static Command Version()
    {
        var command = new Command("version", "Print the version of Stratus and of the .NET runtime.");
        command.SetAction(_ => Console.WriteLine($"stratus {VersionText()} (.NET {Environment.Version})"));
        return command;
    }

    public static string VersionText() =>
        typeof(ServerCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    private static Option<string> DataOption() => new("--data")
    {
        Description = "The data folder: databases (SQLite), keys, blobs and the operator's first password.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STRATUS_DATA") ?? DefaultData,
    };

    private static Option<string> UrlsOption() => new("--urls")
    {
        Description = "Where to listen, for example http://127.0.0.1:8080; separate several with ';'.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("STRATUS_URLS") ?? DefaultUrls,
    };
}

/// <param name="EmbeddedHosts">qemu, simulated or none: the driver of the one host per region that `up` runs in-process.</param>
/// <param name="Verbose">Every log line; else (`up` without --verbose) see <see cref="ServerLogging"/>. `run` is always
/// verbose: a service run apart logs to its supervisor's journal, not to a person's terminal.</param>
/// <param name="Tls">HTTPS on --urls with the certificate of <see cref="ControlPlaneTls"/> (`up --tls`).</param>
/// <param name="RequestLines">A line per request: only when a person asks (`up --verbose`). Off by default everywhere else,
/// `run` included (a journal keeps what a URL carried); configuration can turn them on.</param>
/// <param name="TlsFiles">`run --tls-cert --tls-key --ca-cert`: HTTPS with a deployment's own certificates (<see cref="ServiceTls"/>).</param>
internal sealed record ServerOptions(string Targets, string? Database, string DataFolder, string Urls, string EmbeddedHosts, bool Verbose, bool Tls, bool RequestLines,
    ServiceTlsFiles? TlsFiles = null);
