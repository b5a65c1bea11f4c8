using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Stratus.Client;

/// <summary>`stratus image list` and `stratus image upload FILE`: a tenant's custom images from a terminal.</summary>
internal static partial class ClientCommands
{
    /// <summary>An upload that moves no byte for this long is given up: a dead connection, not a slow one.</summary>
    private static readonly TimeSpan UploadStall = TimeSpan.FromMinutes(2);

    /// <summary>How long validation may take once the disk is uploaded (qemu-img check of up to 20 GiB).</summary>
    private static readonly TimeSpan ValidationDeadline = TimeSpan.FromMinutes(30);

    private static Command Image()
    {
        var command = new Command("image", "Custom images: Linux disks (qcow2 or raw) the tenant's Cloud PCs boot from.");
        var output = OutputOption();
        var list = new Command("list", "The tenant's custom images.") { output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync("/api/v1/deviceImages", cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["displayName", "version", "status", "statusDetails", "id"]);
        }));
        command.Subcommands.Add(list);

        var file = new Argument<FileInfo>("file") { Description = "The disk: qcow2 or raw, bootable with BIOS, a getty on ttyS0 (see the README)." };
        var name = new Option<string>("--name") { Description = "The image's display name.", Required = true };
        var version = new Option<string>("--version") { Description = "Its version, major.minor.patch.", DefaultValueFactory = _ => "1.0.0" };
        var uploadOutput = OutputOption();
        var upload = new Command("upload", "Upload a disk as a custom image and wait until it is validated (ready or failed).") { file, name, version, uploadOutput };
        upload.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            var disk = result.GetValue(file)!;
            if (!disk.Exists)
            {
                throw new ClientException($"{disk.FullName} does not exist.");
            }

            var quiet = result.GetValue(uploadOutput) == "json";
            using var client = ApiClient.SignedIn(Timeout.InfiniteTimeSpan);
            var image = await client.PostAsync("/api/v1/deviceImages", new { displayName = result.GetValue(name), version = result.GetValue(version) }, cancellationToken);
            var id = image["id"]!.GetValue<string>();
            await UploadAsync(client, id, disk, quiet, cancellationToken);
            image = await WaitForValidationAsync(client, id, quiet, cancellationToken);
            if (quiet)
            {
                Console.WriteLine(image.ToJsonString(Indented));
            }
            else
            {
                Console.WriteLine($"{image["displayName"]} {image["version"]}: {image["status"]} - image {id}");
            }

            if (image["status"]!.GetValue<string>() != "ready")
            {
                throw new ClientException($"the image was refused: {image["statusDetails"]}");
            }
        }));
        command.Subcommands.Add(upload);
        return command;
    }

    /// <summary>Streams the file with a progress bar on a terminal, a line per quarter in a pipe, nothing with JSON.</summary>
    private static async Task UploadAsync(ApiClient client, string id, FileInfo disk, bool quiet, CancellationToken cancellationToken)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(UploadStall);
        async Task SendAsync(Action<long> moved)
        {
            await using var stream = new ProgressStream(disk.OpenRead(), read =>
            {
                stall.CancelAfter(UploadStall);
                moved(read);
            });
            using var content = new StreamContent(stream, 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = disk.Length;
            try
            {
                await client.SendAsync(HttpMethod.Put, $"/api/v1/deviceImages/{id}/content", content, stall.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ClientException($"the upload moved no byte for {UploadStall.TotalMinutes:0} minutes and was given up; image {id} still waits for its disk.");
            }
        }

        var mib = disk.Length / (1024.0 * 1024);
        if (quiet)
        {
            await SendAsync(_ => { });
        }
        else if (Console.IsOutputRedirected)
        {
            var quarter = 0;
            await SendAsync(sent =>
            {
                var now = disk.Length == 0 ? 4 : (int)(sent * 4 / disk.Length);
                for (; quarter < now; quarter++)
                {
                    Console.WriteLine($"upload: {(quarter + 1) * 25}% of {mib:0.#} MiB");
                }
            });
        }
        else
        {
            await AnsiConsole.Progress().StartAsync(async context =>
            {
                var task = context.AddTask($"Uploading {disk.Name} ({mib:0.#} MiB)", maxValue: Math.Max(1, disk.Length));
                await SendAsync(sent => task.Value = sent);
            });
        }
    }

    private static async Task<JsonNode> WaitForValidationAsync(ApiClient client, string id, bool quiet, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ValidationDeadline);
        async Task<JsonNode> PollAsync()
        {
            while (true)
            {
                var image = await client.GetAsync($"/api/v1/deviceImages/{id}", deadline.Token);
                if (image["status"]!.GetValue<string>() != "pending")
                {
                    return image;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
            }
        }

        try
        {
            return quiet || Console.IsOutputRedirected
                ? await PollAsync()
                : await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync("Validating the disk...", _ => PollAsync());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClientException($"image {id} was not validated within {ValidationDeadline.TotalMinutes:0} minutes; see 'stratus image list'.");
        }
    }

    /// <summary>A read-only stream that reports how many bytes were read so far.</summary>
    private sealed class ProgressStream(Stream inner, Action<long> read) : Stream
    {
        private long total;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => total; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Report(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Report(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Report(int count)
        {
            total += count;
            read(total);
            return count;
        }
    }
}
