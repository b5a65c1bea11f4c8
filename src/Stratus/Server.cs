using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Stratus.Identity.Accounts;
using Stratus.Platform;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Persistence;

namespace Stratus;

/// <summary>Starts the chosen services in this process and serves them until asked to stop.</summary>
internal static class Server
{
    public static async Task<int> RunAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var services = Services.Select(options.Targets);
            var settings = Prepare(options, services);
            // Before anything starts: a certificate that cannot be used is one line naming its file.
            var serviceTls = options.TlsFiles is { } files ? ServiceTls.Load(files) : null;
            return await ServeAsync(options, settings, services, serviceTls, cancellationToken);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is not OperationCanceledException && Environment.GetEnvironmentVariable("STRATUS_DEBUG") is null)
        {
            // A defect, not a mistake of the caller: still one line, with the way to see the whole story.
            await Console.Error.WriteLineAsync($"error: Stratus failed to start: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (set STRATUS_DEBUG=1 for the stack trace, and report it)");
            return 1;
        }
    }

    private static StratusHostSettings Prepare(ServerOptions options, IReadOnlyList<StratusService> services)
    {
        var dataFolder = Path.GetFullPath(options.DataFolder);
        EnsureWritableFolder(dataFolder, "--data");
        var database = DatabaseSettings.Parse(options.Database ?? DatabaseSettings.SqlitePrefix + Path.Combine(dataFolder, "db"));
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            EnsureWritableFolder(database.Target, "--database");
        }

        ValidateUrls(options.Urls);
        return new StratusHostSettings(database, dataFolder, string.Join(",", services.Select(s => s.Name)));
    }

    private static async Task<int> ServeAsync(ServerOptions options, StratusHostSettings settings, IReadOnlyList<StratusService> services, ServiceTls? serviceTls,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environment.GetEnvironmentVariable("STRATUS_ENVIRONMENT") ?? Environments.Production,
        });
        var tls = options.Tls ? ControlPlaneTls.LoadOrCreate(settings.DataFolder, options.Urls) : null;
        var https = tls is not null || serviceTls?.Certificate is not null;
        builder.WebHost.UseUrls(https ? ControlPlaneTls.Secure(options.Urls) : options.Urls);
        if (tls is not null)
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = tls.Certificate));
            builder.Services.AddSingleton(tls);
            builder.Services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler((handler, _) => tls.TrustOwnCertificate(handler)));
        }

        if (serviceTls is not null)
        {
            if (serviceTls.Certificate is { } certificate)
            {
                builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
                {
                    https.ServerCertificate = certificate;
                    https.ServerCertificateChain = serviceTls.Chain;
                }));
            }

            builder.Services.AddSingleton(serviceTls);
            builder.Services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler((handler, _) => serviceTls.TrustAuthorities(handler)));
        }

        // The client whose credentials this process's own calls use where no service of it is the caller (its
        // revocation poll): its first service's, unless configured (ADR 0011).
        builder.Configuration.AddInMemoryCollection([new(RevocationPoller.ClientKey, services[0].Name)]);

        // Issue 18: the built-in local regions' disk copies go to DATA/copies/REGION (ComputeOptions.LocalCopyStoreFolder).
        builder.Configuration.AddInMemoryCollection([new("Stratus:Compute:LocalCopyStoreFolder", Path.Combine(settings.DataFolder, "copies"))]);
        builder.Configuration.AddEnvironmentVariables();
        builder.AddStratusPlatform(settings);

        // The host reports a failed start as a stack trace; Stratus reports it as one line instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Connection", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Migrations", LogLevel.Warning);
        if (!options.Verbose)
        {
            ServerLogging.MakeQuiet(builder.Logging);
        }
        else if (options.RequestLines)
        {
            builder.Logging.AddFilter(ServerLogging.RequestLines, LogLevel.Information);
        }

        if (!options.RequestLines)
        {
            // Each call between services (a revocation poll every 5 s in every process) would write five lines of
            // its own; its failures still show, as warnings of the retries and of ServiceCalls.
            builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
            builder.Logging.AddFilter("Polly", LogLevel.Warning);
        }

        foreach (var service in services)
        {
            service.Add(builder);
        }

        if (options.EmbeddedHosts != "none")
        {
            builder.Services.AddHostedService(provider => ActivatorUtilities.CreateInstance<EmbeddedHosts>(provider, options.EmbeddedHosts));
            builder.Services.AddSingleton<Gateway.Connect.IVmConsoles>(new EmbeddedConsoles(settings.DataFolder));
        }

        await using var app = builder.Build();
        app.UseStratusPlatform();
        foreach (var service in services)
        {
            service.Map(app);
        }

        await app.RunStartupTasksAsync(cancellationToken);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // The queue workers and outbox relays started before the listener failed; stop them before the
            // host is disposed under them, or they log its disposal as a failure, stack trace and all.
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await app.StopAsync(stopping.Token);
            throw CannotListen(options.Urls, IsAddressInUse(e), e);
        }

        PrintBanner(app, settings, services);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    private static bool IsAddressInUse(Exception e) =>
        e.InnerException is AddressInUseException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    private static void PrintBanner(WebApplication app, StratusHostSettings settings, IReadOnlyList<StratusService> services)
    {
        var url = options(app).FirstOrDefault() ?? "";
        Console.WriteLine($"Stratus {ServerCommands.VersionText()} is running: {string.Join(", ", services.Select(s => s.Name))}");
        Console.WriteLine($"  API reference   {url}/docs");
        Console.WriteLine($"  Health          {url}/healthz  {url}/readyz");
        Console.WriteLine($"  Data            {settings.DataFolder} ({settings.Database.Describe()})");
        if (app.Services.GetService<ControlPlaneTls>() is { } tls)
        {
            Console.WriteLine($"  TLS             {tls.File}, pin {tls.Pin}");
            Console.WriteLine($"  Join a host     stratus host --control-plane {url} --control-plane-cert-hash {tls.Pin} --enrollment-token TOKEN --zone ZONE");
        }

        var bootstrap = app.Services.GetService<BootstrapResult>();
        if (bootstrap is { Created: true, GeneratedPassword: { } password })
        {
            Console.WriteLine($"  Sign in as '{BootstrapResult.OperatorUserName}' with password {password}");
            Console.WriteLine($"  (shown once; also kept in {bootstrap.PasswordFile}, readable only by you)");
        }
        else if (bootstrap is not null)
        {
            var file = Path.Combine(settings.DataFolder, "operator-password");
            Console.WriteLine(File.Exists(file)
                ? $"  Sign in as '{BootstrapResult.OperatorUserName}' with the password in {file}"
                : $"  Sign in as '{BootstrapResult.OperatorUserName}' with the password you set in STRATUS_BOOTSTRAP_PASSWORD");
        }

        if (services.Any(s => s.Name == "images") && MissingGalleryImage(app, settings) is { } expected)
        {
            // Without it a policy has no image to use, and nothing else would say why.
            Console.WriteLine($"  Gallery image   missing: Stratus Tiny Linux is expected in {expected}");
            Console.WriteLine($"                  build it with 'make image STRATUS_DATA={settings.DataFolder}' in the Stratus source folder");
            Console.WriteLine($"                  (or scripts/build-tiny-image.sh {expected}), then restart Stratus");
        }

        Console.WriteLine("Press Ctrl+C to stop.");

        static IEnumerable<string> options(WebApplication app) => app.Urls.Select(u => u.TrimEnd('/'));
    }

    /// <summary>The folder of the gallery image when it holds no image (no manifest.json), else null.</summary>
    private static string? MissingGalleryImage(WebApplication app, StratusHostSettings settings)
    {
        var root = app.Configuration["Stratus:Images:Root"] is { Length: > 0 } configured ? Path.GetFullPath(configured) : Path.Combine(settings.DataFolder, "images");
        var folder = Path.Combine(root, "gallery", "stratus-tiny-linux");
        return File.Exists(Path.Combine(folder, "manifest.json")) ? null : folder;
    }

    private static void EnsureWritableFolder(string folder, string flag)
    {
        try
        {
            if (File.Exists(folder))
            {
                throw new ConfigurationException($"{flag} {folder} is a file, not a folder. Choose a folder.");
            }

            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"the folder {folder} ({flag}) is not writable: {e.Message} Choose another with {flag} or fix its permissions.", e);
        }
    }

    private static void ValidateUrls(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ConfigurationException($"--urls: '{url}' is not an address to listen on; use for example http://127.0.0.1:8080.");
            }

            EnsureCanListen(url, uri);
        }
    }

    /// <summary>
    /// Binds the address for a moment, before the migrations and the services start: a port in use (or an address
    /// not on this machine) is then one line within seconds, not after the whole start. Listening can still fail
    /// later (another program may take the port meanwhile): ServeAsync says so in the same words.
    /// </summary>
    private static void EnsureCanListen(string url, Uri uri)
    {
        if (uri.Port == 0 || !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
        {
            return;
        }

        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // As Kestrel binds: a port whose old connections linger in TIME_WAIT is free to listen on.
        probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            probe.Bind(new System.Net.IPEndPoint(address, uri.Port));
        }
        catch (SocketException e)
        {
            throw CannotListen(url, e.SocketErrorCode == SocketError.AddressAlreadyInUse, e);
        }
    }

    private static ConfigurationException CannotListen(string urls, bool inUse, Exception e) => new(inUse
        ? $"cannot listen on {urls}: the address is already in use. Stop the other program or choose another address with --urls."
        : $"cannot listen on {urls}: {e.Message.TrimEnd('.')}. Choose another address with --urls.", e);
}
