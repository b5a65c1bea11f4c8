using System.CommandLine;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Confinement;
using Stratus.HostAgent.Copies;
using Stratus.Platform;
using Stratus.Platform.Http;

namespace Stratus;

/// <summary>`stratus host`: runs the host agent of one machine against a control plane.</summary>
internal static partial class HostCommand
{
    public static Command Create()
    {
        var controlPlane = new Option<string>("--control-plane")
        {
            Description = "The control plane's URL, for example http://10.0.0.1:8080; several instances comma-separated (one per zone): the agent moves to the next when one cannot be reached.",
            Required = true,
        };
        var pin = new Option<string?>("--control-plane-cert-hash")
        {
            Description = "sha256:HEX, the control plane's pin that `stratus up --tls` prints (SHA-256 of its certificate's or its CA's public key), as kubeadm's "
                + "--discovery-token-ca-cert-hash: the agent talks only to a server that shows it. Given at enrollment; kept in DATA/agent.json for later starts.",
        };
        var token = new Option<string?>("--enrollment-token") { Description = "From POST /api/v1/hosts/enrollmentTokens; needed on the first start only." };
        var region = new Option<string?>("--region") { Description = "The region the token is for (checked)." };
        var zone = new Option<string>("--zone") { Description = "The zone of this machine in its region.", Required = true };
        var name = new Option<string>("--name") { Description = "The host's name in its region.", DefaultValueFactory = _ => Environment.MachineName };
        var data = new Option<string>("--data") { Description = "The agent's folder: its identity, VMs and disks.", DefaultValueFactory = _ => "./.stratus-host" };
        var images = new Option<string?>("--images") { Description = "Where image folders are (one per image id). Default: DATA/images." };
        var exports = new Option<string?>("--exports") { Description = "The only folder snapshot exports are written to. Default: DATA/exports." };
        var driver = new Option<string>("--driver") { Description = "qemu (real VMs) or simulated (fake VMs for scale tests).", DefaultValueFactory = _ => "qemu" };
        driver.AcceptOnlyFromAmong("qemu", "simulated");
        var vcpus = new Option<int>("--vcpus") { Description = "vCPUs to offer.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var memory = new Option<int>("--memory-mib") { Description = "Memory to offer, MiB.", DefaultValueFactory = _ => 4096 };
        var disk = new Option<int>("--disk-gib") { Description = "Disk to offer, GiB.", DefaultValueFactory = _ => 100 };
        var guestDeny = new Option<string[]>("--guest-deny")
        {
            Description = "A network (CIDR) this host's guests must never reach, besides the host's own addresses and the control plane's, "
                + "which are always refused: the database's or other control-plane machines'. Repeat for several.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("host", "Run the host agent: enroll this machine, then run the VMs the control plane places on it.")
        {
            controlPlane, pin, token, region, zone, name, data, images, exports, driver, vcpus, memory, disk, guestDeny,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var urls = new List<Uri>();
                foreach (var text in result.GetValue(controlPlane)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
                    {
                        throw new ConfigurationException($"--control-plane: '{text}' is not an http(s) URL; give one like http://127.0.0.1:8080, or several separated by commas.");
                    }

                    urls.Add(parsed);
                }

                if (urls.Count == 0)
                {
                    throw new ConfigurationException("--control-plane needs at least one http(s) URL, for example http://127.0.0.1:8080.");
                }

                var dataFolder = Path.GetFullPath(result.GetValue(data)!);
                Directory.CreateDirectory(dataFolder);
                var options = new AgentOptions
                {
                    ControlPlane = urls[0],
                    ControlPlanePin = ResolvePin(result.GetValue(pin), dataFolder, urls),
                    EnrollmentToken = result.GetValue(token),
                    Region = result.GetValue(region),
                    Zone = result.GetValue(zone)!,
                    Name = result.GetValue(name)!,
                    DataFolder = dataFolder,
                    ImagesFolder = Path.GetFullPath(result.GetValue(images) ?? Path.Combine(dataFolder, "images")),
                    ExportsFolder = Path.GetFullPath(result.GetValue(exports) ?? Path.Combine(dataFolder, "exports")),
                    VCpus = result.GetValue(vcpus),
                    MemoryMiB = result.GetValue(memory),
                    DiskGiB = result.GetValue(disk),
                };
                IReadOnlyList<string> denied;
                try
                {
                    denied = await GuestConfinementOptions.DenyNetworksAsync(urls, result.GetValue(guestDeny) ?? [], cancellationToken);
                }
                catch (ArgumentException e)
                {
                    throw new ConfigurationException($"--guest-deny: {e.Message.Split(" (Parameter", 2)[0]}", e);
                }

                return await RunAsync(options, urls, result.GetValue(driver)!, denied, cancellationToken);
            }
            catch (ConfigurationException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The pin given now, else the one kept at enrollment; two that differ are a mistake, not a choice.</summary>
    private static ControlPlanePin? ResolvePin(string? given, string dataFolder, IReadOnlyList<Uri> urls)
    {
        ControlPlanePin? parsed = null;
        if (given is not null && !ControlPlanePin.TryParse(given, out parsed))
        {
            throw new ConfigurationException($"--control-plane-cert-hash: '{given}' is not a pin; give it as printed by `stratus up --tls`: sha256: and 64 hex digits.");
        }

        ControlPlanePin? enrolled;
        try
        {
            enrolled = ControlPlanePin.Enrolled(dataFolder);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.Text.Json.JsonException)
        {
            throw new ConfigurationException($"cannot read this host's identity in {dataFolder}: {e.Message}", e);
        }

        if (parsed is not null && enrolled is not null && parsed != enrolled)
        {
            throw new ConfigurationException($"--control-plane-cert-hash {parsed} differs from {enrolled}, the pin this host enrolled with (in {Path.Combine(dataFolder, HostAgentService.IdentityFile)}). "
                + "Leave the option out to keep that pin, or remove the file and enroll again with a new token to trust a new certificate.");
        }

        var pin = parsed ?? enrolled;
        if (pin is not null && urls.FirstOrDefault(u => u.Scheme != Uri.UriSchemeHttps) is { } plain)
        {
            throw new ConfigurationException($"--control-plane-cert-hash pins an HTTPS control plane, but {plain} is http://; give its https:// address.");
        }

        return pin;
    }

    private static async Task<int> RunAsync(AgentOptions options, IReadOnlyList<Uri> controlPlanes, string driverName, IReadOnlyList<string> guestDenyNetworks,
        CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        try
        {
            // S3 copy store credentials from configuration (Stratus__CopyStores__S3__AccessKey/SecretKey, appsettings.json),
            // not only the SDK's AWS_* environment.
            options = options with { CopyStores = CopyStoreOptions.From(builder.Configuration) };
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException(e.Message, e);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        }));
        var probe = HostDrivers.CreateAccelerator(loggers);
        var driver = HostDrivers.Create(driverName, options.DataFolder, probe, loggers, guestDenyNetworks);
        var accelerator = await HostDrivers.DescribeAcceleratorAsync(driverName, probe, [options.ImagesFolder], cancellationToken);

        // The agent's calls are idempotent (desired state, reports, operation results by id): one sent again to
        // another instance after a lost answer does no harm.
        var endpoints = new InstanceList(controlPlanes);
        var failoverLog = loggers.CreateLogger("Stratus.HostAgent.ControlPlane");
        endpoints.FailedOver += next => LogFailedOver(failoverLog, next);
        builder.Services.AddSingleton(provider => new HostAgentService(driver, options, accelerator,
            new HttpClient(new InstanceFailover(endpoints, ControlPlanePin.Handler(options.ControlPlanePin, failoverLog))) { BaseAddress = controlPlanes[0], Timeout = TimeSpan.FromSeconds(60) }, TimeProvider.System,
            provider.GetRequiredService<ILogger<HostAgentService>>()));
        builder.Services.AddHostedService(provider => provider.GetRequiredService<HostAgentService>());

        // A failed agent is reported below as one line, not by the host as a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        using var host = builder.Build();
        var agent = host.Services.GetRequiredService<HostAgentService>();
        await host.RunAsync(cancellationToken);
        if (agent.ExecuteTask is { IsFaulted: true } failed)
        {
            await Console.Error.WriteLineAsync($"error: {failed.Exception?.InnerException?.Message ?? "the host agent failed"}");
            return 1;
        }

        return 0;
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "The control-plane instance did not answer; the agent moved to {ControlPlane}")]
    private static partial void LogFailedOver(ILogger logger, Uri controlPlane);
}
