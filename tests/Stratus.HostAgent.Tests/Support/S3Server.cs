using System.Diagnostics;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Stratus.HostAgent.Copies;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>
/// A real S3-compatible server on 127.0.0.1: s3rver 3.7.1 (npm), a Node.js process keeping its buckets in a temporary
/// folder. Why s3rver: Debian 12 packages no S3 server short of a Ceph cluster (radosgw), and NuGet has none; MinIO
/// and Garage are not in Debian. It checks SigV4 signatures (access key and secret S3RVER), takes multipart uploads
/// and x-amz-meta-* metadata, which is what the copy store uses. Installed once into artifacts/s3rver (by
/// scripts/install-deps.sh test, or here on first use under a lock). Disposal stops the process and removes its data.
/// </summary>
public sealed partial class S3Server : IAsyncDisposable
{
    public const string Version = "3.7.1";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly Lazy<Task<string>> Program = new(InstallAsync);

    private readonly TempFolder _data;
    private readonly Process _process;

    private S3Server(Process process, int port, TempFolder data)
    {
        _process = process;
        _data = data;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Endpoint { get; }

    /// <summary>Where s3rver keeps the objects: a test may alter them behind a store's back.</summary>
    public string DataFolder => _data.Path;

    public CopyStoreOptions Options => new() { S3 = new S3CredentialOptions { AccessKey = AccessKey, SecretKey = SecretKey } };

    public static async Task<S3Server> StartAsync()
    {
        var program = await Program.Value;
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var data = new TempFolder();
        foreach (var argument in new[] { program, "--directory", data.Path, "--address", "127.0.0.1", "--port", "0", "--no-vhost-buckets" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start node (s3rver).");
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new System.Text.StringBuilder();

        // Port 0 and the port it prints: no race with another test for a port picked in advance. Its request log is
        // read (and dropped) to the end so that the pipe never fills.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && Listening().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (errors) { errors.AppendLine(e.Data); } } };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"s3rver exited with {process.ExitCode}: {errors}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return new S3Server(process, port, data);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            data.Dispose();
            throw;
        }
    }

    /// <summary>A client of this server for what a test does behind a store's back (make a bucket, alter an object).</summary>
    public AmazonS3Client NewClient() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>Makes a bucket and returns a store URI for it.</summary>
    public async Task<string> NewBucketAsync(string bucket, string prefix = "")
    {
        using var client = NewClient();
        await client.PutBucketAsync(bucket);
        return $"s3://{bucket}/{prefix}?endpoint={Uri.EscapeDataString(Endpoint.ToString().TrimEnd('/'))}&region=us-east-1";
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _data.Dispose();
    }

    private static async Task<string> InstallAsync()
    {
        var root = StratusProcess.RepositoryRoot;
        var prefix = Path.Combine(root, "artifacts", "s3rver");
        var program = Path.Combine(prefix, "node_modules", "s3rver", "bin", "s3rver.js");
        var package = Path.Combine(prefix, "node_modules", "s3rver", "package.json");
        Directory.CreateDirectory(Path.Combine(root, "artifacts"));
        await using var installLock = await TinyImageFolder.AcquireLockAsync(Path.Combine(root, "artifacts", "s3rver.lock"));
        if (!File.Exists(package) || !(await File.ReadAllTextAsync(package)).Contains($"\"version\": \"{Version}\"", StringComparison.Ordinal))
        {
            await ProcessRunner.RunCheckedAsync("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", $"s3rver@{Version}"], TimeSpan.FromMinutes(5));
        }

        return program;
    }

    [GeneratedRegex(@"listening on [^\s]+:(?<port>\d+)")]
    private static partial Regex Listening();
}
