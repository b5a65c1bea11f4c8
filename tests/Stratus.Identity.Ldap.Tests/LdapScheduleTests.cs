using Stratus.Identity.Ldap.Tests.Support;

namespace Stratus.Identity.Ldap.Tests;

/// <summary>Periodic syncs through the durable queue: at the tenant's interval, and never two schedules at once.</summary>
[Collection(StratusHostsCollection.Name)]
public sealed class LdapScheduleTests(StratusHosts hosts)
{
    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Schedule_SyncsAtTheInterval_AndSavingAgainKeepsOneSchedule(string provider)
    {
        var interval = TimeSpan.FromSeconds(2);
        await using var ldap = await SlapdServer.StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap, "PT2S"));

        // Nobody asks for this one: the schedule runs it.
        var first = await tenant.WaitForStatusAsync(s => s.Trigger == "scheduled", "the first scheduled sync", TimeSpan.FromSeconds(30));
        Assert.Equal(("succeeded", 3), (first.Result, first.Counts.Created));

        // Each save arms the schedule anew; the earlier scheduled messages must not run as schedules of their own.
        for (var i = 0; i < 3; i++)
        {
            await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap, "PT2S"));
            await Task.Delay(300);
        }

        var runs = new Dictionary<Guid, DateTimeOffset>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(9))
        {
            var status = await tenant.StatusAsync();
            if (status is { Trigger: "scheduled", SyncId: { } id, StartedDateTime: { } started } && id != first.SyncId)
            {
                runs.TryAdd(id, started);
            }

            await Task.Delay(50);
        }

        var starts = runs.Values.Order().ToList();
        Assert.InRange(starts.Count, 2, 5);
        for (var i = 1; i < starts.Count; i++)
        {
            Assert.True(starts[i] - starts[i - 1] >= interval * 0.95, $"Two scheduled syncs {(starts[i] - starts[i - 1]).TotalMilliseconds:0} ms apart: {string.Join(", ", starts)}");
        }

        Assert.True((await tenant.StatusAsync()).NextSyncDateTime > first.FinishedDateTime);
    }
}
