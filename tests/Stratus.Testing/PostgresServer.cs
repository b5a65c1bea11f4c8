using Npgsql;
using Xunit;

namespace Stratus.Testing;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql package) in a temporary folder on a free port, for the
/// duration of a test collection. Each test takes a database of its own from it.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string User = "stratus";
    private string root = "";
    private string dataFolder = "";
    private int databases;
    private bool stopped;

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        var bin = FindBinaries();
        root = Directory.CreateTempSubdirectory("stratus-pg-").FullName;
        dataFolder = Path.Combine(root, "data");
        Port = FreePort.Next();

        // initdb refuses to run as root; the tests run as root in CI, so the server runs as 'postgres'.
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await ProcessRunner.RunCheckedAsync("chown", ["postgres:postgres", root], TimeSpan.FromSeconds(10));
        }

        await RunAsServerUserAsync(asRoot, Path.Combine(bin, "initdb"),
            ["-D", dataFolder, "-U", User, "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"], TimeSpan.FromMinutes(2));
        await RunAsServerUserAsync(asRoot, Path.Combine(bin, "pg_ctl"),
        [
            "-D", dataFolder, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off",
            "start",
        ], TimeSpan.FromMinutes(2));
    }

    /// <summary>Creates a new empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"test_{Interlocked.Increment(ref databases)}_{Guid.NewGuid():N}"[..30];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username={User};Pooling=true;Timeout=10";

    /// <summary>
    /// A hot standby of this server (pg_basebackup, streaming replication) on a free port of its own; it follows
    /// the server until it stops and is never promoted.
    /// </summary>
    public async Task<PostgresStandby> StartStandbyAsync()
    {
        var bin = FindBinaries();
        var standbyRoot = Directory.CreateTempSubdirectory("stratus-pg-standby-").FullName;
        var standbyData = Path.Combine(standbyRoot, "data");
        var port = FreePort.Next();
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await ProcessRunner.RunCheckedAsync("chown", ["postgres:postgres", standbyRoot], TimeSpan.FromSeconds(10));
        }

        await RunAsServerUserAsync(asRoot, Path.Combine(bin, "pg_basebackup"),
            ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User, "-D", standbyData, "-R", "-X", "stream", "--no-sync"],
            TimeSpan.FromMinutes(2));
        await RunAsServerUserAsync(asRoot, Path.Combine(bin, "pg_ctl"),
        [
            "-D", standbyData, "-l", Path.Combine(standbyRoot, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {standbyRoot} -c listen_addresses=127.0.0.1 -c max_connections=300 -c hot_standby=on",
            "start",
        ], TimeSpan.FromMinutes(2));
        return new PostgresStandby(port, standbyRoot, standbyData);
    }

    /// <summary>Stops the server at once, as a crash or a lost zone would; a standby is left as it is.</summary>
    public async Task StopAsync()
    {
        await RunAsServerUserAsync(Environment.UserName == "root", Path.Combine(FindBinaries(), "pg_ctl"), ["-D", dataFolder, "-m", "immediate", "-w", "stop"], TimeSpan.FromMinutes(1));
        stopped = true;
    }

    public async Task DisposeAsync()
    {
        if (dataFolder.Length > 0 && Directory.Exists(dataFolder) && !stopped)
        {
            var asRoot = Environment.UserName == "root";
            await RunAsServerUserAsync(asRoot, Path.Combine(FindBinaries(), "pg_ctl"), ["-D", dataFolder, "-m", "immediate", "-w", "stop"], TimeSpan.FromMinutes(1));
        }

        if (root.Length > 0)
        {
            Directory.Delete(root, recursive: true);
        }
    }

    internal static Task<ProcessResult> RunAsServerUserAsync(bool asRoot, string program, IEnumerable<string> arguments, TimeSpan timeout) =>
        asRoot
            ? ProcessRunner.RunCheckedAsync("runuser", new[] { "-u", "postgres", "--", program }.Concat(arguments), timeout)
            : ProcessRunner.RunCheckedAsync(program, arguments, timeout);

    internal static string FindBinaries()
    {
        const string lib = "/usr/lib/postgresql";
        var bin = Directory.Exists(lib)
            ? Directory.GetDirectories(lib).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException("PostgreSQL is not installed: run 'make test', which installs Debian's postgresql package.");
    }
}

/// <summary>A hot standby made by <see cref="PostgresServer.StartStandbyAsync"/>; disposal stops it and removes its folder.</summary>
public sealed class PostgresStandby(int port, string root, string dataFolder) : IAsyncDisposable
{
    public int Port => port;

    public async ValueTask DisposeAsync()
    {
        await PostgresServer.RunAsServerUserAsync(Environment.UserName == "root", Path.Combine(PostgresServer.FindBinaries(), "pg_ctl"),
            ["-D", dataFolder, "-m", "immediate", "-w", "stop"], TimeSpan.FromMinutes(1));
        Directory.Delete(root, recursive: true);
    }
}
