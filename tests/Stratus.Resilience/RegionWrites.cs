using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Resilience;

/// <summary>One write sent straight to a region's instance, past the front door: which region took a write, when.</summary>
/// <param name="Status">The HTTP status, 0 when no answer came within the timeout.</param>
public sealed record DirectWrite(string Region, TimeSpan At, TimeSpan Answered, int Status);

/// <summary>
/// Watches which region takes writes, from outside the front door: every second, a user is created straight at one
/// instance of each region (the zones in turn). Only the region the front door leases may answer 201; every other
/// answers 503 (read-only) or not at all. A created user is an acknowledged write like the load's: it goes into the
/// ledger and must survive every fault.
/// </summary>
public sealed class RegionWrites(RegionPair pair, FrontDoor door, Ledger ledger, ConcurrentDictionary<Guid, TimeSpan> acknowledgedAt) : IDisposable
{
    private readonly HttpClient http = new(pair.First.TrustingLabCa(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) }))
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    private readonly ConcurrentBag<DirectWrite> writes = [];
    private int number;

    public static string NameOf(RegionPair pair, Region region) => region == pair?.First ? "region-1" : "region-2";

    public HttpClient Http => http;

    public async Task ProbeUntilAsync(ChaosTenant tenant, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            var zone = round++ % 2 == 0 ? "stratus-a" : "stratus-b";
            await Task.WhenAll(ProbeAsync(pair.First, zone, tenant), ProbeAsync(pair.Second, zone, tenant));
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ProbeAsync(Region region, string instance, ChaosTenant tenant)
    {
        var upn = $"probe{Interlocked.Increment(ref number)}-{NameOf(pair, region)}@{tenant.Domain}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(region.Instances[instance], "/api/v1/users"))
        {
            Content = JsonContent.Create(new { userPrincipalName = upn, displayName = upn, accountEnabled = true, passwordProfile = new { password = "chaos-user-password-1" } }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.AdminToken);
        var at = door.Now;
        var status = 0;
        try
        {
            using var response = await http.SendAsync(request);
            status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.Created)
            {
                var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
                ledger.Users[id] = (tenant, upn);
                acknowledgedAt[id] = door.Now;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Cut off or stopped: no answer, which is what a region that does not take writes may do.
        }

        writes.Add(new DirectWrite(NameOf(pair, region), at, door.Now, status));
    }

    /// <summary>The writes each region took (201) that were answered in [from, to), in the order they were answered.</summary>
    public IReadOnlyList<DirectWrite> TakenBetween(TimeSpan from, TimeSpan to) =>
        writes.Where(w => w.Status == (int)HttpStatusCode.Created && w.Answered >= from && w.Answered < to).OrderBy(w => w.Answered).ToList();

    /// <summary>
    /// How many times the region that took the writes changed in [from, to): a planned switch or a failover is one
    /// change; a region taking writes again after the other did (or both in turn) is more, and would be two writable regions.
    /// </summary>
    public int WriterChangesBetween(TimeSpan from, TimeSpan to)
    {
        var taken = TakenBetween(from, to);
        return taken.Zip(taken.Skip(1)).Count(p => p.First.Region != p.Second.Region);
    }

    /// <summary>The users the tenant has in the writable region's database, read from one of its instances past the front door.</summary>
    public async Task<List<(Guid Id, string UserPrincipalName)>> UsersInAsync(Region region, ChaosTenant tenant)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(tenant);
        foreach (var instance in region.Instances.Values)
        {
            var users = new List<(Guid, string)>();
            try
            {
                for (var skip = 0; ; skip += 1000)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(instance, $"/api/v1/users?$top=1000&$skip={skip}"));
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.AdminToken);
                    using var response = await http.SendAsync(request);
                    response.EnsureSuccessStatusCode();
                    var page = await response.Content.ReadFromJsonAsync<JsonElement>();
                    users.AddRange(page.GetProperty("value").EnumerateArray().Select(u => (u.GetProperty("id").GetGuid(), u.GetProperty("userPrincipalName").GetString()!)));
                    if (users.Count >= page.GetProperty("totalCount").GetInt32())
                    {
                        return users;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // That instance does not answer: the other zone's.
            }
        }

        throw new InvalidOperationException($"no instance of {NameOf(pair, region)} listed the users");
    }

    public void Dispose() => http.Dispose();
}
