using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Stratus.Images.Persistence;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>
/// Two real stratus processes, shared by the images tests, which run each case against both: `stratus up` on
/// SQLite (the default regions local-1 and local-2), and identity, diagnostics, images and provisioning (what images asks before a delete) on PostgreSQL with
/// regions of their own from configuration. Both start with a fake gallery image in DATA/images/gallery and
/// accept uploads of at most <see cref="MaxUploadBytes"/> holding disks of at most <see cref="MaxVirtualSizeGiB"/>.
/// Tests isolate themselves by creating tenants.
/// </summary>
public sealed class ImagesHosts : IAsyncLifetime
{
    public const string GalleryImageId = "stratus-test-gallery";
    public const long MaxUploadBytes = 4 * 1024 * 1024;
    public const int MaxVirtualSizeGiB = 1;

    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteData = new();
    private readonly TempFolder postgresData = new();
    private readonly TempFolder sqliteRegionB = new();
    private readonly TempFolder postgresRegionB = new();
    private string postgresConnection = "";
    private ImagesHost? sqlite;
    private ImagesHost? onPostgres;

    public async Task InitializeAsync()
    {
        await postgres.InitializeAsync();
        postgresConnection = await postgres.CreateDatabaseAsync();
        foreach (var data in new[] { sqliteData.Path, postgresData.Path })
        {
            await DiskFiles.WriteFakeGalleryImageAsync(Path.Combine(data, "images", "gallery"), GalleryImageId, "Stratus Test Gallery", "1.2.3");
        }

        var limits = new Dictionary<string, string?>
        {
            ["Stratus__Images__MaxUploadBytes"] = MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Stratus__Images__MaxVirtualSizeGiB"] = MaxVirtualSizeGiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // No embedded host agents: these tests are about the store, not VMs.
            ["STRATUS_HOSTS"] = "none",
        };
        var withRegions = new Dictionary<string, string?>(limits)
        {
            ["Stratus__Compute__Regions__0__Name"] = "east-1",
            ["Stratus__Compute__Regions__0__Zones__0"] = "east-1a",
            ["Stratus__Compute__Regions__1__Name"] = "west-1",
            ["Stratus__Compute__Regions__1__Zones__0"] = "west-1a",
        };
        var started = await Task.WhenAll(
            StratusProcess.StartAsync(["up"], sqliteData.Path, InRegionA(limits, sqliteRegionB.Path)),
            StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,images,provisioning", "--database", postgresConnection], postgresData.Path, InRegionA(withRegions, postgresRegionB.Path)));
        sqlite = new ImagesHost("sqlite", started[0], ["local-1", "local-2"], postgresConnection, sqliteRegionB.Path);
        onPostgres = new ImagesHost("postgres", started[1], ["east-1", "west-1"], postgresConnection, postgresRegionB.Path);
    }

    /// <summary>
    /// Region A of two (issue 19): its files replicated to region B's image store, a folder of the test's (B's
    /// instances are not needed to show that B's store holds A's files; the regions helper's tests run B's).
    /// </summary>
    private static Dictionary<string, string?> InRegionA(Dictionary<string, string?> environment, string regionBImages) => new(environment)
    {
        // Its own setting, not Stratus:Region:Name, which would also ask for a front door (the regions helper's part).
        ["Stratus__Images__FileReplication__Region"] = "A",
        ["Stratus__Images__FileReplication__Stores__B__images"] = regionBImages,
        ["Stratus__Images__FileReplication__Interval"] = "00:00:02",
    };

    public async Task DisposeAsync()
    {
        if (sqlite is not null)
        {
            await sqlite.Process.DisposeAsync();
        }

        if (onPostgres is not null)
        {
            await onPostgres.Process.DisposeAsync();
        }

        await postgres.DisposeAsync();
        sqliteData.Dispose();
        postgresData.Dispose();
        sqliteRegionB.Dispose();
        postgresRegionB.Dispose();
    }

    public ImagesHost Host(string provider) => provider switch
    {
        "sqlite" => sqlite!,
        "postgres" => onPostgres!,
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    public static TheoryData<string> Providers() => new() { "sqlite", "postgres" };
}

public sealed record ImagesHost(string Provider, StratusProcess Process, IReadOnlyList<string> Regions, string PostgresConnection, string RegionBImages)
{
    public string ImagesRoot => Path.Combine(Process.DataFolder, "images");

    public string RegionFolder(string region) => Path.Combine(ImagesRoot, "regions", region);

    /// <summary>The images store of the running service, for what its API does not show (import jobs) or cannot set up.</summary>
    public ImagesDbContext OpenStore() => Provider == "sqlite"
        ? new SqliteImagesDbContext(new DbContextOptionsBuilder<SqliteImagesDbContext>()
            .UseSqlite($"Data Source={Path.Combine(Process.DataFolder, "db", "images.db")};Default Timeout=30").Options, TimeProvider.System)
        : new PostgresImagesDbContext(new DbContextOptionsBuilder<PostgresImagesDbContext>().UseNpgsql(PostgresConnection).Options, TimeProvider.System);

    /// <summary>Creates a tenant with a unique domain and returns its administrator's client.</summary>
    public async Task<TestTenant> CreateTenantAsync()
    {
        using var operatorClient = await Process.OperatorClientAsync();
        var domain = $"img{Guid.NewGuid():N}"[..20] + ".test";
        const string password = "admin-password-123";
        var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new
        {
            displayName = "Tenant " + domain,
            domain,
            admin = new { userName = "admin", password },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var admin = await Process.SignedInClientAsync("admin@" + domain, password);
        return new TestTenant(this, body.GetProperty("tenant").GetProperty("id").GetGuid(), domain, admin);
    }

    /// <summary>The events the images store published about one image, oldest first, read from its outbox.</summary>
    public async Task<List<string>> EventsAsync(string imageId)
    {
        var rows = new List<(string Type, string Body)>();
        if (Provider == "sqlite")
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(Process.DataFolder, "db", "images.db")};Mode=ReadOnly");
            await connection.OpenAsync();
            await using var command = new SqliteCommand("SELECT MessageType, Body FROM outbox_messages ORDER BY CreatedAt", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        else
        {
            await using var connection = new NpgsqlConnection(PostgresConnection);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT \"MessageType\", \"Body\" FROM images.outbox_messages ORDER BY \"CreatedAt\"", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return rows.Where(r => r.Body.Contains(imageId, StringComparison.Ordinal)).Select(r => r.Type).ToList();
    }

    /// <summary>
    /// Asserts that the store holds nothing of an image: no folder in any region or in custom/, no half-made
    /// copy, no upload. The upload goes just after the image's state commits, so this waits a little for it.
    /// </summary>
    public async Task AssertNothingLeftAsync(string imageId)
    {
        List<string> left = [];
        for (var i = 0; i < 50; i++)
        {
            left = Leftovers(imageId);
            if (left.Count == 0)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Files of image {imageId} are left behind: {string.Join(", ", left)}");
    }

    private List<string> Leftovers(string imageId)
    {
        var compact = Guid.Parse(imageId).ToString("N");
        var folders = Regions.Select(RegionFolder).Append(Path.Combine(ImagesRoot, "custom")).Where(Directory.Exists);
        return folders.SelectMany(Directory.EnumerateFileSystemEntries)
            .Where(e => Path.GetFileName(e).Contains(imageId, StringComparison.Ordinal))
            .Concat(Directory.Exists(Path.Combine(ImagesRoot, "uploads"))
                ? Directory.EnumerateFiles(Path.Combine(ImagesRoot, "uploads")).Where(f => Path.GetFileName(f).StartsWith(compact, StringComparison.Ordinal))
                : [])
            .ToList();
    }
}

public sealed record TestTenant(ImagesHost Host, Guid Id, string Domain, HttpClient Admin) : IDisposable
{
    public void Dispose() => Admin.Dispose();

    /// <summary>A new user of the tenant, signed in; with a role besides the `user` every account has, if given.</summary>
    public async Task<HttpClient> UserClientAsync(string name, string? role = null)
    {
        const string password = "user-password-123";
        var created = await Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = name + "@" + Domain,
            displayName = name,
            passwordProfile = new { password },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        if (role is not null)
        {
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.Created, (await Admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = id, roleDefinitionId = role })).StatusCode);
        }

        return await Host.Process.SignedInClientAsync(name + "@" + Domain, password);
    }
}

[CollectionDefinition(Name)]
public sealed class ImagesCollection : ICollectionFixture<ImagesHosts>
{
    public const string Name = "images";
}

public static class DeviceImagesClient
{
    public static async Task<string> CreateAsync(HttpClient client, string displayName = "Engineering desktop", string version = "1.0.0")
    {
        var response = await client.PostAsJsonAsync("/api/v1/deviceImages", new { displayName, version });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("pending", body.GetProperty("status").GetString());
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>PUTs a file as the image's content; <paramref name="chunked"/> sends it without a length.</summary>
    public static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string id, string path, bool chunked = false)
    {
        await using var file = File.OpenRead(path);
        using var content = new StreamContent(chunked ? new UnseekableStream(file) : file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await client.PutAsync($"/api/v1/deviceImages/{id}/content", content);
    }

    /// <summary>Waits until validation decided (ready or failed) and returns the image.</summary>
    public static async Task<JsonElement> WaitForDecisionAsync(HttpClient client, string id)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var image = await client.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{id}");
            if (image.GetProperty("status").GetString() != "pending")
            {
                return image;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"Image {id} is still pending after 60 s: {image}");
            await Task.Delay(200);
        }
    }

    /// <summary>A stream whose length is unknown, so that HttpClient sends it chunked.</summary>
    private sealed class UnseekableStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public static class Problem
{
    /// <summary>Asserts an RFC 9457 answer with the status, and returns its body.</summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        return body;
    }
}
