using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Monitoring;

/// <summary>
/// deploy/monitoring with Debian's real promtool and prometheus: the rules are valid and their tests pass, and the
/// shipped scrape configuration, pointed at a `stratus up` this test starts, scrapes it.
/// </summary>
public sealed partial class MonitoringTests
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    private static string MonitoringFolder => Path.Combine(StratusProcess.RepositoryRoot, "deploy", "monitoring");

    [Fact]
    public async Task Promtool_CheckRulesAndConfig_Pass()
    {
        var rules = await ProcessRunner.RunAsync("promtool", ["check", "rules", "stratus-alerts.yml"], ToolTimeout, workingDirectory: MonitoringFolder);
        Assert.True(rules.ExitCode == 0, rules.StandardOutput + rules.StandardError);
        Assert.Contains("SUCCESS: 9 rules found", rules.StandardOutput + rules.StandardError, StringComparison.Ordinal);

        var config = await ProcessRunner.RunAsync("promtool", ["check", "config", "prometheus.yml"], ToolTimeout, workingDirectory: MonitoringFolder);
        Assert.True(config.ExitCode == 0, config.StandardOutput + config.StandardError);
    }

    [Fact]
    public async Task Promtool_TestRules_AlertsFireAsExpected()
    {
        var result = await ProcessRunner.RunAsync("promtool", ["test", "rules", "tests/stratus-alerts.test.yml"], ToolTimeout, workingDirectory: MonitoringFolder);
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Contains("SUCCESS", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prometheus_ScrapesStratusUp_WithTheShippedConfiguration()
    {
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path,
            new Dictionary<string, string?> { ["Stratus__Metrics__RefreshInterval"] = "00:00:02" });

        // The shipped configuration and rules as they are; only the targets file names the test's instance.
        using var config = new TempFolder();
        File.Copy(Path.Combine(MonitoringFolder, "prometheus.yml"), Path.Combine(config.Path, "prometheus.yml"));
        File.Copy(Path.Combine(MonitoringFolder, "stratus-alerts.yml"), Path.Combine(config.Path, "stratus-alerts.yml"));
        Directory.CreateDirectory(Path.Combine(config.Path, "targets"));
        var target = $"{stratus.BaseAddress.Host}:{stratus.BaseAddress.Port}";
        await File.WriteAllTextAsync(Path.Combine(config.Path, "targets", "test.yml"), $"- targets: ['{target}']\n");

        await using var prometheus = PrometheusProcess.Start(config.Path);
        using var http = new HttpClient { BaseAddress = prometheus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        // Until Prometheus listens, its API refuses connections: that is "not yet", not a failure.
        await Eventually.MatchesAsync(() => QueryWhenListeningAsync(http, prometheus, $"up{{job=\"stratus\",instance=\"{target}\"}}"),
            r => r.Any(s => s.Value == "1"), $"Prometheus to scrape {target} (its output: {prometheus.Output})", TimeSpan.FromSeconds(120));
        var depth = await Eventually.MatchesAsync(() => QueryAsync(http, "stratus_queue_depth"),
            r => r.Any(s => s.Labels.GetValueOrDefault("queue") == "compute"), "a queue depth series of the compute queue", TimeSpan.FromSeconds(120));
        Assert.All(depth, s => Assert.Equal(target, s.Labels["instance"]));
        await Eventually.MatchesAsync(() => QueryAsync(http, "sum(stratus_compute_hosts{state=\"Ready\"})"),
            r => r.Count == 1 && double.Parse(r[0].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1,
            "the embedded simulated hosts counted as Ready", TimeSpan.FromSeconds(120));
        Assert.NotEmpty(await QueryAsync(http, "stratus_store_up{store=\"platform\"} == 1"));
        Assert.NotEmpty(await QueryAsync(http, "http_server_request_duration_seconds_count{http_route!=\"\"}"));

        // The rules loaded and evaluate without error against the live series.
        var rules = await Eventually.MatchesAsync(() => RuleHealthAsync(http), r => r.Count == 9 && r.All(h => h == "ok"),
            "the 9 rules loaded and evaluated", TimeSpan.FromSeconds(120));
        Assert.Equal(9, rules.Count);

        // Every series the rules tests use is one a live `stratus up` exports (so the tests cannot drift from the code).
        foreach (var selector in RulesTestSelectors())
        {
            var found = await QueryAsync(http, selector);
            Assert.True(found.Count > 0, $"The rules tests use {selector}, which the live stratus up does not export.");
        }
    }

    /// <summary>The series of tests/stratus-alerts.test.yml, without the job and instance Prometheus adds.</summary>
    private static IEnumerable<string> RulesTestSelectors() =>
        File.ReadAllLines(Path.Combine(MonitoringFolder, "tests", "stratus-alerts.test.yml"))
            .Select(line => SeriesLine().Match(line))
            .Where(m => m.Success)
            .Select(m => InstanceLabel().Replace(m.Groups[1].Value, ""))
            .Where(s => !s.StartsWith("up{", StringComparison.Ordinal))
            .Distinct();

    private static async Task<List<Sample>> QueryWhenListeningAsync(HttpClient http, PrometheusProcess prometheus, string query)
    {
        try
        {
            return await QueryAsync(http, query);
        }
        catch (HttpRequestException) when (!prometheus.HasExited)
        {
            return [];
        }
    }

    private static async Task<List<Sample>> QueryAsync(HttpClient http, string query)
    {
        using var response = await http.GetAsync(new Uri($"/api/v1/query?query={Uri.EscapeDataString(query)}", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
        {
            // Prometheus answers 503 in plain text until its storage is open.
            throw new HttpRequestException($"Prometheus is not ready: {text}");
        }

        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {text}");
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        return body.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => new Sample(
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                r.GetProperty("value")[1].GetString() ?? ""))
            .ToList();
    }

    private static async Task<List<string>> RuleHealthAsync(HttpClient http)
    {
        var body = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/rules", UriKind.Relative));
        return body.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => r.TryGetProperty("lastEvaluation", out var at) && !at.GetString()!.StartsWith("0001", StringComparison.Ordinal)
                ? r.GetProperty("health").GetString() ?? "" : "not evaluated")
            .ToList();
    }

    [GeneratedRegex("""^\s*- series: '(.+)'\s*$""")]
    private static partial Regex SeriesLine();

    [GeneratedRegex(@",?(job|instance)=""[^""]*""")]
    private static partial Regex InstanceLabel();

    private sealed record Sample(Dictionary<string, string> Labels, string Value);
}

/// <summary>Debian's prometheus on 127.0.0.1 (a free port, storage in a temporary folder), stopped on dispose.</summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly TempFolder storage;
    private readonly StringBuilder output = new();

    private PrometheusProcess(Process process, TempFolder storage, Uri baseAddress)
    {
        this.process = process;
        this.storage = storage;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public bool HasExited => process.HasExited;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static PrometheusProcess Start(string configFolder)
    {
        var storage = new TempFolder();
        var port = FreePort.Next();
        var start = new ProcessStartInfo("prometheus")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = configFolder,
        };
        foreach (var argument in new[]
        {
            $"--config.file={Path.Combine(configFolder, "prometheus.yml")}",
            $"--storage.tsdb.path={storage.Path}",
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start prometheus (scripts/install-deps.sh test installs it)");
        var prometheus = new PrometheusProcess(process, storage, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => prometheus.Append(e.Data);
        process.ErrorDataReceived += (_, e) => prometheus.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return prometheus;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        process.Dispose();
        storage.Dispose();
    }
}
