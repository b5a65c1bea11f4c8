using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>
/// `stratus up`'s terminal after the banner: warnings, errors and what a person should know; the host agents' polls
/// and every other request only with --verbose.
/// </summary>
public sealed class QuietTerminalTests
{
    [Fact]
    public async Task Up_AfterItsBanner_PrintsNoRequestLines_WhileHostAgentsPoll()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);

        await WaitForAgentReportsAsync(stratus);
        await BannerAsync(stratus);

        var output = stratus.Output;
        var afterBanner = output[(output.IndexOf("Press Ctrl+C to stop.", StringComparison.Ordinal) + 1)..];
        Assert.DoesNotContain("Request starting", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request finished", output, StringComparison.Ordinal);
        Assert.DoesNotContain("/api/v1/agent/", output, StringComparison.Ordinal);
        Assert.DoesNotContain("info: Microsoft.", afterBanner, StringComparison.Ordinal);
        // What a person should know still shows: each host agent that came up.
        Assert.Contains("Host agent vm-local-1 running in local-1", output, StringComparison.Ordinal);
        Assert.Contains("Host agent vm-local-2 running in local-2", output, StringComparison.Ordinal);
        // The gallery image is where it belongs: the banner does not ask for it.
        Assert.DoesNotContain("Gallery image", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_WithVerbose_PrintsTheHostAgentsPolls_AndAnEmptyGalleryIsNamedInTheBanner()
    {
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated", "--verbose"], data.Path);

        // A data folder that `make up` did not prepare: the banner says where the gallery image is expected and how to build it.
        await BannerAsync(stratus);
        var expected = Path.Combine(data.Path, "images", "gallery", "stratus-tiny-linux");
        Assert.Contains($"Gallery image   missing: Stratus Tiny Linux is expected in {expected}", stratus.Output, StringComparison.Ordinal);
        Assert.Contains($"scripts/build-tiny-image.sh {expected}", stratus.Output, StringComparison.Ordinal);

        await WaitForAgentReportsAsync(stratus);

        await Eventually.MatchesAsync(() => Task.FromResult(stratus.Output), o => o.Contains("Request finished HTTP/1.1 POST", StringComparison.Ordinal)
            && o.Contains("/api/v1/agent/report", StringComparison.Ordinal), "a host agent's report as a request line", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Run_ByDefault_PrintsNoRequestLines_WhichCarryUrls()
    {
        using var data = new TempFolder();
        var stratus = await StratusProcess.StartAsync(["run", "--targets", "all"], data.Path);
        string output;
        try
        {
            using var operatorClient = await stratus.OperatorClientAsync();
            Assert.Equal(System.Net.HttpStatusCode.OK, (await operatorClient.GetAsync("/api/v1/me?probe=request-line")).StatusCode);
        }
        finally
        {
            // Stopped before reading: a graceful stop flushes every line the process had queued.
            await stratus.DisposeAsync();
            output = stratus.Output;
        }

        Assert.DoesNotContain("Request starting", output, StringComparison.Ordinal);
        Assert.DoesNotContain("probe=request-line", output, StringComparison.Ordinal);
        // It did log: a service run apart writes its information lines for its journal.
        Assert.Contains("info: ", output, StringComparison.Ordinal);
    }

    /// <summary>The banner is printed once the listener has started, which may be just after /readyz first answers.</summary>
    private static Task<string> BannerAsync(StratusProcess stratus) =>
        Eventually.MatchesAsync(() => Task.FromResult(stratus.Output), o => o.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal), "the start banner", TimeSpan.FromSeconds(30));

    /// <summary>Until every host's heartbeat is newer than when it was first seen: each agent polled after the start.</summary>
    private static async Task WaitForAgentReportsAsync(StratusProcess stratus)
    {
        using var operatorClient = await stratus.OperatorClientAsync();
        async Task<Dictionary<string, DateTimeOffset?>> HeartbeatsAsync() =>
            (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray()
                .ToDictionary(h => h.GetProperty("name").GetString()!, h => h.GetProperty("lastHeartbeatDateTime").ValueKind == JsonValueKind.Null
                    ? (DateTimeOffset?)null
                    : h.GetProperty("lastHeartbeatDateTime").GetDateTimeOffset());

        var first = await Eventually.MatchesAsync(HeartbeatsAsync, h => h.Count == 2 && h.Values.All(v => v is not null), "both embedded hosts to report");
        await Eventually.MatchesAsync(HeartbeatsAsync, h => h.All(pair => pair.Value > first[pair.Key]), "both hosts to report again", TimeSpan.FromSeconds(60));
    }
}
