using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Resilience;

/// <summary>What one look at the region found wrong; converged when nothing is.</summary>
public sealed record Verdict(IReadOnlyList<string> Pending, IReadOnlyList<string> Lost, IReadOnlyList<string> Duplicates, IReadOnlyList<string> Orphans, IReadOnlyList<string> Failed)
{
    public bool Converged => Pending.Count == 0 && Lost.Count == 0 && Duplicates.Count == 0 && Orphans.Count == 0 && Failed.Count == 0;

    public string Describe() => string.Join("; ", new[] { ("pending", Pending), ("lost", Lost), ("duplicate", Duplicates), ("orphan", Orphans), ("failed", Failed) }
        .Where(p => p.Item2.Count > 0).Select(p => $"{p.Item1} {p.Item2.Count}: {string.Join(", ", p.Item2.Take(3))}"));
}

/// <summary>
/// Checks the region against the ledger: every accepted user is there, every licensed user has exactly one
/// Cloud PC and it is provisioned and running on a VM that exists, every accepted restart succeeded and was
/// recorded once, no VM belongs to no Cloud PC, and no disk on the real-VM host belongs to no VM. Hosts are those of
/// the tenants' regions.
/// </summary>
/// <param name="region">The zone lab (deploy/local-region): its database must be redundant again and its real-VM host's
/// disks are checked too; null for the two-region lab, whose figures are the API's alone.</param>
public sealed class Invariants(Region? region, FrontDoor door, Ledger ledger, IReadOnlyList<ChaosTenant> tenants, string operatorToken)
{
    /// <summary>Checks until the region converged or <paramref name="timeout"/> passed; the last verdict.</summary>
    public async Task<Verdict> ConvergeAsync(TimeSpan timeout, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (true)
        {
            var verdict = await CheckAsync();
            if (verdict.Converged || clock.Elapsed > timeout)
            {
                if (!verdict.Converged)
                {
                    log($"not converged after {timeout.TotalSeconds:F0} s: {verdict.Describe()}");
                }

                return verdict;
            }

            if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(20))
            {
                lastReport = clock.Elapsed;
                log($"  converging ({clock.Elapsed.TotalSeconds:F0} s): {verdict.Describe()}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    public async Task<Verdict> CheckAsync()
    {
        List<string> pending = [], lost = [], duplicates = [], orphans = [], failed = [];
        var vmIdsOfCloudPcs = new HashSet<Guid>();
        foreach (var tenant in tenants)
        {
            var pcs = await ReadAsync(tenant.AdminToken, "/api/v1/cloudPCs?$top=1000");
            if (pcs is null)
            {
                pending.Add($"tenant {tenant.Domain}: Cloud PCs not readable");
                continue;
            }

            var byUser = pcs.Value.GetProperty("value").EnumerateArray().GroupBy(p => p.GetProperty("userId").GetGuid()).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var (user, (owner, userName)) in ledger.Users.Where(u => u.Value.Tenant == tenant))
            {
                using var read = await door.SendAsync(HttpMethod.Get, $"/api/v1/users/{user}", tenant.AdminToken);
                if (read?.StatusCode == HttpStatusCode.NotFound)
                {
                    lost.Add($"user {userName}");
                }
                else if (read is not { IsSuccessStatusCode: true })
                {
                    pending.Add($"user {userName} not readable");
                }
            }

            foreach (var (userId, list) in byUser)
            {
                vmIdsOfCloudPcs.UnionWith(list.Select(p => p.GetProperty("vmId").GetGuid()));
                if (list.Count > 1)
                {
                    duplicates.Add($"{list.Count} Cloud PCs for user {userId}");
                }
                else if (!ledger.Licensed.ContainsKey(userId) && !ledger.Users.ContainsKey(userId))
                {
                    orphans.Add($"Cloud PC {list[0].GetProperty("id")} of a user the load never created");
                }
            }

            foreach (var (userId, _) in ledger.Licensed.Where(l => l.Value == tenant))
            {
                if (!byUser.TryGetValue(userId, out var list))
                {
                    pending.Add($"no Cloud PC yet for licensed user {userId}");
                    continue;
                }

                var pc = list[0];
                var status = pc.GetProperty("status").GetString();
                if (status == "failed")
                {
                    failed.Add($"Cloud PC {pc.GetProperty("id")} failed: {pc.GetProperty("statusDetail")}");
                }
                else if (status != "provisioned" || pc.GetProperty("powerState").GetString() != "running" || pc.GetProperty("activeOperationId").ValueKind != JsonValueKind.Null)
                {
                    pending.Add($"Cloud PC {pc.GetProperty("id")} {status}/{pc.GetProperty("powerState").GetString()}");
                }
            }

            await CheckActionsAsync(tenant, pending, lost, duplicates, failed);
        }

        await CheckVmsAsync(vmIdsOfCloudPcs, pending, orphans);
        await CheckHostsAsync(pending);
        if (region is not null)
        {
            pending.AddRange(await region.NotYetRedundantAsync(Probe));
        }

        return new Verdict(pending, lost, duplicates, orphans, failed);
    }

    private async Task CheckActionsAsync(ChaosTenant tenant, List<string> pending, List<string> lost, List<string> duplicates, List<string> failed)
    {
        var accepted = ledger.Actions.Where(a => a.Value.Tenant == tenant).ToList();
        foreach (var (operation, (_, cloudPc)) in accepted)
        {
            using var response = await door.SendAsync(HttpMethod.Get, $"/api/v1/cloudPCs/{cloudPc}/operations/{operation}", tenant.AdminToken);
            if (response?.StatusCode == HttpStatusCode.NotFound)
            {
                lost.Add($"restart {operation}");
                continue;
            }

            if (response is not { IsSuccessStatusCode: true })
            {
                pending.Add($"restart {operation} not readable");
                continue;
            }

            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var status = body.GetProperty("status").GetString();
            if (status == "failed" && IsGivenUpByDesign(body.GetProperty("detail").GetString()))
            {
                // Completed, once: its host was declared down (a zone's loss) or its deadline passed, so it failed with
                // a retryable detail and the Cloud PC took actions again (issue 16), as a user is told.
                ledger.GivenUp.TryAdd(operation, true);
            }
            else if (status == "failed")
            {
                failed.Add($"restart {operation}");
            }
            else if (status != "succeeded")
            {
                pending.Add($"restart {operation} {status}");
            }
        }

        // Each accepted restart is audited once: more events than accepted restarts would be one done twice.
        var audit = await ReadAsync(tenant.AdminToken, "/api/v1/auditEvents?$top=1000");
        if (audit is null)
        {
            pending.Add($"audit of {tenant.Domain} not readable");
            return;
        }

        var restarts = audit.Value.GetProperty("value").EnumerateArray().Count(e => e.GetProperty("activity").GetString() == "reboot");
        if (restarts > accepted.Count)
        {
            duplicates.Add($"{restarts} restarts audited in {tenant.Domain} for {accepted.Count} accepted");
        }
        else if (restarts < accepted.Count)
        {
            pending.Add($"{restarts} of {accepted.Count} restarts audited in {tenant.Domain}");
        }
    }

    /// <summary>The two ways provisioning gives up an operation on purpose; their details say to send it again.</summary>
    private static bool IsGivenUpByDesign(string? detail) =>
        detail is not null && (detail.Contains("stopped answering", StringComparison.Ordinal) || detail.Contains("did not complete within its deadline", StringComparison.Ordinal));

    private async Task CheckVmsAsync(HashSet<Guid> vmIdsOfCloudPcs, List<string> pending, List<string> orphans)
    {
        var vms = await ReadAsync(operatorToken, "/api/v1/vms");
        if (vms is null)
        {
            pending.Add("VMs not readable");
            return;
        }

        var tenantIds = tenants.Select(t => t.Id).ToHashSet();
        var known = new HashSet<Guid>();
        foreach (var vm in vms.Value.EnumerateArray())
        {
            var id = vm.GetProperty("id").GetGuid();
            known.Add(id);
            if (vm.GetProperty("tenantId").ValueKind == JsonValueKind.Null || !tenantIds.Contains(vm.GetProperty("tenantId").GetGuid()))
            {
                continue;
            }

            if (!vmIdsOfCloudPcs.Contains(id))
            {
                if (vm.GetProperty("deleteRequested").GetBoolean())
                {
                    pending.Add($"VM {id} being deleted");
                }
                else
                {
                    orphans.Add($"VM {id} of no Cloud PC");
                }
            }
            else if (vm.GetProperty("state").ValueKind != JsonValueKind.String || vm.GetProperty("state").GetString() != "running")
            {
                pending.Add($"VM {id} {vm.GetProperty("state")}");
            }
        }

        // The real-VM host's disks: a VM folder there that compute does not know is a disk nobody will delete.
        var disks = region is null ? null : Path.Combine(region.Folder, "host-lab", "vms");
        if (Directory.Exists(disks))
        {
            foreach (var folder in Directory.GetDirectories(disks))
            {
                if (Guid.TryParse(Path.GetFileName(folder), out var vmId) && !known.Contains(vmId))
                {
                    orphans.Add($"disk of VM {vmId} on host-lab");
                }
            }
        }
    }

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(3) };

    private async Task CheckHostsAsync(List<string> pending)
    {
        var hosts = await ReadAsync(operatorToken, "/api/v1/hosts");
        if (hosts is null)
        {
            pending.Add("hosts not readable");
            return;
        }

        var regions = tenants.Select(t => t.Region).ToHashSet(StringComparer.Ordinal);
        pending.AddRange(hosts.Value.EnumerateArray().Where(h => regions.Contains(h.GetProperty("region").GetString()!) && h.GetProperty("state").GetString() != "ready")
            .Select(h => $"host {h.GetProperty("name").GetString()} {h.GetProperty("state").GetString()}"));
    }

    private async Task<JsonElement?> ReadAsync(string token, string path)
    {
        using var response = await door.SendAsync(HttpMethod.Get, path, token);
        return response is { IsSuccessStatusCode: true } ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }
}
