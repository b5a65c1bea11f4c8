using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Stratus.Platform.Hosting;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Persistence;

/// <summary>
/// While PostgreSQL fails over, reads go on: a real primary with a real hot standby (streaming replication), the
/// platform on Kestrel with both listed as the region lists them, and the primary stopped at once as a lost zone
/// would. GETs are answered from the standby with what was committed; writes get 503 and change nothing.
/// </summary>
public sealed class StandbyReadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task With_the_primary_gone_reads_are_answered_by_the_standby_and_writes_get_503()
    {
        var primary = new PostgresServer();
        await primary.InitializeAsync();
        try
        {
            var single = new NpgsqlConnectionStringBuilder(await primary.CreateDatabaseAsync());
            await ExecuteAsync(single.ConnectionString, "CREATE TABLE public.probe_notes (text text NOT NULL)");
            await using var standby = await primary.StartStandbyAsync();
            var onStandby = new NpgsqlConnectionStringBuilder(single.ConnectionString) { Port = standby.Port }.ConnectionString;

            var region = $"Host=127.0.0.1:{primary.Port},127.0.0.1:{standby.Port};Database={single.Database};Username={single.Username};"
                + "Target Session Attributes=read-write;Host Recheck Seconds=1;Timeout=3";
            using var data = new TempFolder();
            await using var app = await StartAsync(DatabaseSettings.Parse(region), data.Path);
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };

            var written = await client.PostAsJsonAsync("/notes", new Note("committed before the failover"));
            Assert.Equal(HttpStatusCode.NoContent, written.StatusCode);
            await Eventually.WaitForAsync(() => CountAsync(onStandby), n => n == 1, "the standby to replay the note", TimeSpan.FromSeconds(30));
            var before = await client.GetFromJsonAsync<NotesView>("/notes");
            Assert.False(before!.FromStandby);

            await primary.StopAsync();

            var during = await client.GetAsync("/notes");
            Assert.Equal(HttpStatusCode.OK, during.StatusCode);
            var view = await during.Content.ReadFromJsonAsync<NotesView>();
            Assert.True(view!.FromStandby);
            Assert.Equal(["committed before the failover"], view.Notes);

            var refused = await client.PostAsJsonAsync("/notes", new Note("during the failover"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("store-unavailable", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(1, await CountAsync(onStandby));
            await app.StopAsync();
        }
        finally
        {
            await primary.DisposeAsync();
        }
    }

    private async Task<WebApplication> StartAsync(DatabaseSettings database, string data)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddStratusPlatform(new StratusHostSettings(database, data, "test"));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, "api"));
        var app = builder.Build();
        app.UseStratusPlatform();
        app.MapGet("/notes", async (PlatformDbContext db) => new NotesView(
            await db.Database.SqlQuery<bool>($"SELECT pg_is_in_recovery() AS \"Value\"").SingleAsync(),
            await db.Database.SqlQuery<string>($"SELECT text AS \"Value\" FROM public.probe_notes").ToListAsync()));
        app.MapPost("/notes", async (Note note, PlatformDbContext db) =>
        {
            await db.Database.ExecuteSqlAsync($"INSERT INTO public.probe_notes (text) VALUES ({note.Text})");
            return Results.NoContent();
        });
        await app.RunStartupTasksAsync(CancellationToken.None);
        await app.StartAsync();
        return app;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM public.probe_notes", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private sealed record Note(string Text);

    private sealed record NotesView(bool FromStandby, IReadOnlyList<string> Notes);
}
