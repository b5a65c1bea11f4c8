using System.Text.Json;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>`stratus image`: a tenant administrator uploads a custom image from a terminal and learns its fate.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ImageCommandsTests
{
    [Fact]
    public async Task An_admin_uploads_a_bootable_disk_sees_its_progress_and_it_is_ready_while_a_file_that_is_no_disk_is_refused_saying_why()
    {
        using var data = new TempFolder();
        using var operatorConfig = new TempFolder();
        using var config = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        var url = stratus.BaseAddress.ToString().TrimEnd('/');
        await ClientCli.CheckedAsync(operatorConfig.Path, ["login", "--url", url, "--user", "operator"], new() { ["STRATUS_PASSWORD"] = TestAccounts.OperatorPassword });
        var domain = $"img{Guid.NewGuid():N}"[..12] + ".test";
        const string password = "tenant-admin-pass-1";
        await ClientCli.CheckedAsync(operatorConfig.Path, ["tenant", "create", "--name", "Contoso", "--domain", domain], new() { ["STRATUS_NEW_USER_PASSWORD"] = password });
        await ClientCli.CheckedAsync(config.Path, ["login", "--url", url, "--user", $"admin@{domain}"], new() { ["STRATUS_PASSWORD"] = password });

        var disk = await BootableDiskFolder.GetAsync();
        var uploaded = await ClientCli.CheckedAsync(config.Path, ["image", "upload", disk, "--name", "Test disk", "--version", "2.0.0"]);

        // In a pipe the progress is a line per quarter, then the verdict with the image's id.
        var lines = uploaded.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["upload: 25%", "upload: 50%", "upload: 75%", "upload: 100%"], lines[..4].Select(l => l.Split(" of ")[0]));
        Assert.Matches(@"^Test disk 2\.0\.0: ready - image [0-9a-f-]{36}$", lines[4]);
        var images = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["image", "list", "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        var image = Assert.Single(images.EnumerateArray());
        Assert.Equal("ready", image.GetProperty("status").GetString());
        Assert.EndsWith(image.GetProperty("id").GetString()!, lines[4], StringComparison.Ordinal);

        var notADisk = Path.Combine(config.Path, "notes.txt");
        await File.WriteAllTextAsync(notADisk, "This is a shopping list, not a disk.\n");
        var refused = await ClientCli.RunAsync(config.Path, ["image", "upload", notADisk, "--name", "Notes"]);
        Assert.Equal(1, refused.ExitCode);
        var error = Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: the image was refused: ", error, StringComparison.Ordinal);
        Assert.True(error.Length > "error: the image was refused: ".Length + 10, error);

        var missing = await ClientCli.RunAsync(config.Path, ["image", "upload", Path.Combine(config.Path, "nowhere.qcow2"), "--name", "Nothing"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nowhere.qcow2 does not exist", missing.StandardError, StringComparison.Ordinal);
        var after = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["image", "list", "-o", "json"])).StandardOutput).RootElement.GetProperty("value");
        Assert.Equal(2, after.GetArrayLength()); // the ready one and the refused one; a missing file creates nothing.
    }
}
