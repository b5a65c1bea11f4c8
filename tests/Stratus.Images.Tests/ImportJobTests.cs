using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Images.DeviceImages;
using Stratus.Images.Persistence;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>
/// Issue 16 item 6: an import (up to hours) runs as a job that reports progress, never inside the images queue's
/// handler, and a job whose runner died is taken again once its lease runs out.
/// </summary>
[Collection(ImagesCollection.Name)]
public sealed class ImportJobTests(ImagesHosts hosts) : IDisposable
{
    private readonly TempFolder files = new();

    public void Dispose() => files.Dispose();

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Upload_IsImportedByAJob_WhoseProgressTheImageShows(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);
        Assert.Equal(JsonValueKind.Null, (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{id}")).GetProperty("percentComplete").ValueKind);

        var accepted = await DeviceImagesClient.UploadAsync(tenant.Admin, id, await DiskFiles.Qcow2Async(files.Path));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(0, (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("percentComplete").GetInt32());

        var image = await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id);
        Assert.Equal("ready", image.GetProperty("status").GetString());
        Assert.Equal(100, image.GetProperty("percentComplete").GetInt32());
        await using var db = host.OpenStore();
        var job = await db.ImportJobs.AsNoTracking().SingleAsync(j => j.Id == Guid.Parse(id));
        Assert.Equal(ImportJobState.Succeeded, job.State);
        Assert.Equal(1, job.Attempts);
        Assert.Equal(100, job.PercentComplete);
        Assert.NotNull(job.FinishedAt);
        Assert.Null(job.LeaseOwner);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task ImportJob_WhoseRunnerDied_IsTakenAgainAfterItsLease_AndFinishes(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = Guid.Parse(await DeviceImagesClient.CreateAsync(tenant.Admin));

        // What a runner that died mid-import leaves: the upload, the image pending with it, and the job running
        // under a lease nobody renews any more.
        var upload = $"{id:N}-{Guid.NewGuid():N}.upload";
        File.Copy(await DiskFiles.Qcow2Async(files.Path), Path.Combine(host.ImagesRoot, "uploads", upload));
        var now = TimeProvider.System.GetUtcNow();
        await using (var db = host.OpenStore())
        {
            var image = await db.DeviceImages.SingleAsync(i => i.Id == id);
            image.UploadFile = upload;
            image.PercentComplete = 40;
            image.StatusDetails = "Converting the qcow2 disk to a standalone qcow2.";
            image.ConcurrencyStamp = Guid.NewGuid();
            db.ImportJobs.Add(new ImportJob
            {
                Id = id, TenantId = tenant.Id, UploadFile = upload, State = ImportJobState.Running, PercentComplete = 40, Attempts = 1,
                LeaseOwner = "crashed-instance", LeaseExpiresAt = now + TimeSpan.FromSeconds(3), Deadline = now + TimeSpan.FromHours(1), CreatedAt = now,
            });
            await db.SaveChangesAsync();
        }

        var decided = await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id.ToString());

        Assert.Equal("ready", decided.GetProperty("status").GetString());
        Assert.All(host.Regions, r => Assert.True(File.Exists(Path.Combine(host.RegionFolder(r), id.ToString(), "disk.qcow2"))));
        await using (var db = host.OpenStore())
        {
            var job = await db.ImportJobs.AsNoTracking().SingleAsync(j => j.Id == id);
            Assert.Equal(ImportJobState.Succeeded, job.State);
            Assert.Equal(2, job.Attempts); // claimed a second time, by a live runner
            Assert.True(job.FinishedAt >= now + TimeSpan.FromSeconds(3), $"finished at {job.FinishedAt}, before the dead runner's lease ran out at {now + TimeSpan.FromSeconds(3)}");
        }

        Assert.False(File.Exists(Path.Combine(host.ImagesRoot, "uploads", upload)));
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task FinishedImportJobs_AreForgottenAWeekAfterTheyEnded_RunningOnesNever(string provider)
    {
        var host = hosts.Host(provider);
        var now = TimeProvider.System.GetUtcNow();
        var old = new[] { ImportJobState.Succeeded, ImportJobState.Failed }.Select(state => Job(state, finished: now - TimeSpan.FromDays(8))).ToList();
        var recent = Job(ImportJobState.Succeeded, finished: now - TimeSpan.FromDays(6));
        // Started a month ago and still held by a live runner elsewhere: not finished, so never pruned.
        var running = Job(ImportJobState.Running, finished: null, age: TimeSpan.FromDays(30));
        running.LeaseOwner = "another-instance";
        running.LeaseExpiresAt = now + TimeSpan.FromHours(1);
        await using (var db = host.OpenStore())
        {
            db.ImportJobs.AddRange([.. old, recent, running]);
            await db.SaveChangesAsync();
        }

        using (var operatorClient = await host.Process.OperatorClientAsync())
        {
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync("/api/v1/galleryImages/replicate", null)).StatusCode);
        }

        await using (var db = host.OpenStore())
        {
            var ours = old.Select(o => o.Id).Append(recent.Id).Append(running.Id).ToList();
            var left = await db.ImportJobs.AsNoTracking().Where(j => ours.Contains(j.Id)).Select(j => j.Id).ToListAsync();
            Assert.Equal(new[] { recent.Id, running.Id }.Order(), left.Order());
        }

        ImportJob Job(ImportJobState state, DateTimeOffset? finished, TimeSpan? age = null) => new()
        {
            Id = Guid.NewGuid(), TenantId = Guid.NewGuid(), UploadFile = $"{Guid.NewGuid():N}.upload", State = state, PercentComplete = finished is null ? 50 : 100, Attempts = 1,
            CreatedAt = (finished ?? now) - (age ?? TimeSpan.FromHours(1)), Deadline = now + TimeSpan.FromHours(3), FinishedAt = finished,
        };
    }
}
