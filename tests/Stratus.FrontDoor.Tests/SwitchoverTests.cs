using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Platform.Regions;
using Stratus.Testing;

namespace Stratus.FrontDoor.Tests;

public sealed class SwitchoverTests
{
    [Fact]
    public async Task Switchover_ByApiThenByCli_WaitsForTheLease_AndRefusesBadRequests()
    {
        await using var regions = await TwoRegions.StartAsync();
        using var @operator = regions.Client(regions.Identity.OperatorToken());
        using var service = regions.Client(regions.Identity.ServiceToken("compute", RegionLeaseApi.Scope));
        await TwoRegions.EventuallyAsync(() => regions.RegionsAsync(@operator),
            r => r.GetProperty("regions").EnumerateArray().All(x => x.GetProperty("healthy").GetBoolean()), "both regions healthy");

        var grant = await regions.LeaseAsync(service, "A");
        Assert.True(grant.Writable);
        using var accepted = await @operator.PostAsJsonAsync("/frontdoor/v1/switchover", new { region = "B" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        // While it waits for A's lease, A gets no writable lease and B none yet.
        var during = await regions.LeaseAsync(service, "A");
        Assert.False(during.Writable);
        var done = await TwoRegions.EventuallyAsync(() => regions.RegionsAsync(@operator), r => r.GetProperty("writableRegion").GetString() == "B", "B writable");
        var change = done.GetProperty("lastChange");
        Assert.True(change.GetProperty("at").GetDateTimeOffset() >= grant.ValidUntil, "B writable before A's lease ran out");
        Assert.Equal("switchover by operator", change.GetProperty("reason").GetString());

        // Bad input: an unknown region, no body, and a service token (not the operator).
        await LeaseTests.AssertProblemAsync(await @operator.PostAsJsonAsync("/frontdoor/v1/switchover", new { region = "C" }), HttpStatusCode.BadRequest);
        await LeaseTests.AssertProblemAsync(await @operator.PostAsJsonAsync("/frontdoor/v1/switchover", new { }), HttpStatusCode.BadRequest);
        await LeaseTests.AssertProblemAsync(await service.PostAsJsonAsync("/frontdoor/v1/switchover", new { region = "A" }), HttpStatusCode.Forbidden);

        // Back to A with the CLI, signed in at the front door.
        using var config = new TempFolder();
        var credentials = Path.Combine(config.Path, "stratus", "credentials.json");
        Directory.CreateDirectory(Path.GetDirectoryName(credentials)!);
        await File.WriteAllTextAsync(credentials, JsonSerializer.Serialize(new
        {
            url = regions.FrontDoor.BaseAddress,
            userName = "operator",
            accessToken = regions.Identity.OperatorToken(),
            expiresAt = TimeProvider.System.GetUtcNow().AddHours(1),
        }));
        var (exit, output) = await CliAsync(config.Path, "region", "switchover", "--to", "A", "--wait");
        Assert.True(exit == 0, output);
        Assert.Contains("Switching to region A", output, StringComparison.Ordinal);
        Assert.Contains("Region A is writable at epoch 3", output, StringComparison.Ordinal);

        (exit, output) = await CliAsync(config.Path, "region", "status");
        Assert.True(exit == 0, output);
        Assert.Contains("Writable region: A (epoch 3)", output, StringComparison.Ordinal);

        (exit, output) = await CliAsync(config.Path, "region", "switchover", "--to", "C");
        Assert.Equal(1, exit);
        Assert.Contains("There is no region 'C'", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output)> CliAsync(string configHome, params string[] arguments)
    {
        var start = new ProcessStartInfo(StratusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["XDG_CONFIG_HOME"] = configHome;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TwoRegions.Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
