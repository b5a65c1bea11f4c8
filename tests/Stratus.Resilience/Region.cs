using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Stratus.Testing;

namespace Stratus.Resilience;

/// <summary>
/// The region of deploy/local-region/up.sh, started with each zone in its own network namespace and one process
/// per service: what a fault does to it (kill -9 a process, cut a zone's link) and how it comes back (the
/// process's own start script, the link up again).
/// </summary>
public sealed class Region : IAsyncDisposable
{
    public const string OperatorPassword = "chaos-operator-password-1";

    public static readonly IReadOnlyList<string> ServiceNames = ["identity", "diagnostics", "compute", "provisioning", "gateway", "portal", "images"];

    private readonly Dictionary<string, string> zoneLinks;

    /// <summary>Asks the instances whether they are ready, over HTTPS with the lab's CA.</summary>
    private readonly HttpClient instanceProbe;

    private Region(string folder, int basePort, IReadOnlyDictionary<string, Uri> instances, Dictionary<string, string> zoneLinks)
    {
        Folder = folder;
        BasePort = basePort;
        Instances = instances;
        this.zoneLinks = zoneLinks;
        instanceProbe = new HttpClient(TrustingLabCa(new SocketsHttpHandler())) { Timeout = TimeSpan.FromSeconds(3) };
    }

    public string Folder { get; }

    public int BasePort { get; }

    /// <summary>Service instance name (identity-a, compute-b, ...) to its URL.</summary>
    public IReadOnlyDictionary<string, Uri> Instances { get; }

    public static string Script(string name) => Path.Combine(StratusProcess.RepositoryRoot, "deploy", "local-region", name);

    /// <param name="environment">Settings for every process (timeouts shortened for the harness, the database proxy).</param>
    public static async Task<Region> StartAsync(string folder, int basePort, IReadOnlyDictionary<string, string> environment, Action<string> log)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script("up.sh"));
        start.ArgumentList.Add(folder);
        start.Environment["STRATUS_REGION_BASE_PORT"] = basePort.ToString(CultureInfo.InvariantCulture);
        start.Environment["STRATUS_REGION_NETNS"] = "1";
        start.Environment["STRATUS_REGION_SPLIT"] = "1";
        start.Environment["STRATUS_BIN"] = StratusProcess.BinaryPath;
        start.Environment["STRATUS_BOOTSTRAP_PASSWORD"] = OperatorPassword;
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var exitCode = await RunLoggedAsync(start, log);
        if (exitCode != 0)
        {
            await StopAsync(folder);
            throw new InvalidOperationException($"up.sh failed with {exitCode}; its output is above");
        }

        var instances = File.ReadAllLines(Path.Combine(folder, "instances"))
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => new Uri(p[1]), StringComparer.Ordinal);
        var links = File.ReadAllLines(Path.Combine(folder, "zone-links"))
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        return new Region(folder, basePort, instances, links);
    }

    /// <summary>
    /// A region whose processes another script started in <paramref name="folder"/> (deploy/local-regions: each of its
    /// regions is a deploy/local-region folder), to kill and restart them; its instances (DIR/instances) when it runs
    /// any, no zone links.
    /// </summary>
    public static Region Attach(string folder, int basePort)
    {
        var listed = Path.Combine(folder, "instances");
        var instances = File.Exists(listed)
            ? File.ReadAllLines(listed).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => new Uri(p[1]), StringComparer.Ordinal)
            : new Dictionary<string, Uri>(StringComparer.Ordinal);
        return new(folder, basePort, instances, new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>
    /// Sends the signal to every process of the region (each started in a process group of its own: etcd, Patroni,
    /// Stratus instances, host agents) and to its PostgreSQL servers (Patroni starts them in a session of their own).
    /// STOP is a cut: nothing answers, nothing fails; CONT ends it.
    /// </summary>
    public async Task SignalEveryProcessAsync(string signal, Func<string, bool> which)
    {
        ArgumentNullException.ThrowIfNull(which);
        var names = File.ReadAllLines(Path.Combine(Folder, "pids")).Select(l => l.Split(' ')[0]).Distinct().Where(which).ToList();
        foreach (var name in names)
        {
            await ProcessRunner.RunAsync("kill", [$"-{signal}", "--", $"-{LastPid(name)}"], TimeSpan.FromSeconds(10));
            if (name.StartsWith("patroni-", StringComparison.Ordinal))
            {
                await ProcessRunner.RunAsync("pkill", [$"-{signal}", "-f", Path.Combine(Folder, $"pg-{name[^1]}", "data")], TimeSpan.FromSeconds(10));
            }
        }
    }

    /// <summary>Runs a start script to its end, each line of its output to <paramref name="log"/>; returns its exit code.</summary>
    public static async Task<int> RunLoggedAsync(ProcessStartInfo start, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(start);
        var name = Path.GetFileName(start.ArgumentList.FirstOrDefault() ?? start.FileName);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot run {name}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log($"{name}: {e.Data}"); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log($"{name}: {e.Data}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>
    /// Makes <paramref name="handler"/> trust the lab's CA (up.sh's tls/ca.pem), and only it: every instance serves
    /// HTTPS with a certificate it issued.
    /// </summary>
    public SocketsHttpHandler TrustingLabCa(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(Folder, "tls", "ca.pem"))));
        handler.SslOptions.CertificateChainPolicy = policy;
        return handler;
    }

    /// <summary>The instances of a service, zone a's first.</summary>
    public IReadOnlyList<Uri> InstancesOf(string service) => [Instances[$"{service}-a"], Instances[$"{service}-b"]];

    /// <summary>Every process of a zone, as up.sh named them.</summary>
    public IReadOnlyList<string> ProcessesOf(string zone) =>
        Directory.GetFiles(Path.Combine(Folder, "procs"), "*.sh").Select(Path.GetFileNameWithoutExtension)
            .Where(n => n!.EndsWith($"-{zone}", StringComparison.Ordinal) || (zone == "b" && n == "host-lab")).Select(n => n!).ToList();

    /// <summary>kill -9 of the process and everything it started (its process group: Patroni's PostgreSQL too).</summary>
    public async Task KillAsync(string name)
    {
        var pid = LastPid(name);
        await ProcessRunner.RunAsync("kill", ["-KILL", "--", $"-{pid}"], TimeSpan.FromSeconds(10));
        if (name.StartsWith("patroni-", StringComparison.Ordinal))
        {
            // Patroni starts PostgreSQL in a session of its own.
            await ProcessRunner.RunAsync("pkill", ["-KILL", "-f", Path.Combine(Folder, $"pg-{name[^1]}", "data")], TimeSpan.FromSeconds(10));
        }
    }

    public Task StartAsync(string name) => ProcessRunner.RunCheckedAsync("bash", [Path.Combine(Folder, "procs", $"{name}.sh")], TimeSpan.FromSeconds(10));

    /// <summary>Takes the zone's link down: it reaches no other zone, and nothing reaches it.</summary>
    public Task CutOffAsync(string zone) => ProcessRunner.RunCheckedAsync("ip", ["link", "set", zoneLinks[zone], "down"], TimeSpan.FromSeconds(10));

    public Task ReconnectAsync(string zone) => ProcessRunner.RunCheckedAsync("ip", ["link", "set", zoneLinks[zone], "up"], TimeSpan.FromSeconds(10));

    /// <summary>The zone whose PostgreSQL node is primary now, by Patroni's REST API (null while there is none).</summary>
    public async Task<string?> PrimaryZoneAsync(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        foreach (var (zone, offset) in new[] { ("a", 0), ("b", 1) })
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://{ZoneAddress(zone)}:{BasePort + 20 + offset}/primary"));
                if (response.IsSuccessStatusCode)
                {
                    return zone;
                }
            }
            catch (HttpRequestException)
            {
                // That node is down or cut off.
            }
            catch (TaskCanceledException)
            {
                // Same, when its link is down.
            }
        }

        return null;
    }

    /// <summary>
    /// What is not back yet after a fault (<paramref name="http"/> asks Patroni): an instance that is not ready, or a database without both its primary
    /// and its synchronous standby (the next fault would otherwise meet a region that is still degraded).
    /// </summary>
    public async Task<IReadOnlyList<string>> NotYetRedundantAsync(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var missing = new List<string>();
        foreach (var (name, url) in Instances)
        {
            if (!await AnswersAsync(instanceProbe, new Uri(url, "/readyz")))
            {
                missing.Add($"{name} not ready");
            }
        }

        var roles = new List<string>();
        foreach (var (zone, offset) in new[] { ("a", 0), ("b", 1) })
        {
            var rest = $"http://{ZoneAddress(zone)}:{BasePort + 20 + offset}";
            roles.Add(await AnswersAsync(http, new Uri($"{rest}/primary")) ? "primary"
                : await AnswersAsync(http, new Uri($"{rest}/sync")) ? "sync" : $"pg-{zone} neither primary nor synchronous standby");
        }

        if (!(roles.Contains("primary") && roles.Contains("sync")))
        {
            missing.AddRange(roles.Where(r => r.StartsWith("pg-", StringComparison.Ordinal)));
        }

        return missing;
    }

    private static async Task<bool> AnswersAsync(HttpClient http, Uri url)
    {
        try
        {
            using var response = await http.GetAsync(url);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The database node addresses as up.sh gives them to each zone's namespace.</summary>
    public static string ZoneAddress(int basePort, string zone) => $"10.77.{basePort / 100 % 256}.1{zone[0] - 'a' + 1}";

    public string ZoneAddress(string zone) => ZoneAddress(BasePort, zone);

    /// <summary>This machine's address on the zones' bridge (where the harness's proxies listen).</summary>
    public static string BridgeAddress(int basePort) => $"10.77.{basePort / 100 % 256}.1";

    public ValueTask DisposeAsync()
    {
        instanceProbe.Dispose();
        return new(StopAsync(Folder));
    }

    private int LastPid(string name) =>
        File.ReadAllLines(Path.Combine(Folder, "pids")).Select(l => l.Split(' ')).Last(p => p[0] == name)[1] is var pid
            ? int.Parse(pid, CultureInfo.InvariantCulture) : 0;

    private static Task StopAsync(string folder) => ProcessRunner.RunAsync("bash", [Script("down.sh"), folder], TimeSpan.FromMinutes(2));
}
