using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Drivers;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// The agent writes exports only under its export folder, whatever the control plane sends (issue 17, item 6):
/// compute refuses such arguments already; this is the host's own line for a control plane that does not.
/// </summary>
public sealed class ExportFolderTests
{
    [Theory]
    [InlineData("/etc/cron.d/stratus.qcow2")]
    [InlineData("../escape.qcow2")]
    [InlineData("pc/../../escape.qcow2")]
    [InlineData("pc/notes.txt")]
    [InlineData("")]
    public void A_file_outside_the_export_folder_or_not_a_qcow2_is_refused(string asked)
    {
        using var data = new TempFolder();
        var folder = Path.Combine(data.Path, "exports");
        var refused = Assert.Throws<VmDriverException>(() => ExportFolder.Resolve(folder, asked));
        Assert.Contains("exports are written only as .qcow2 files under this host's export folder", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sibling_folder_whose_name_starts_like_the_export_folder_is_outside_it()
    {
        using var data = new TempFolder();
        Assert.Throws<VmDriverException>(() => ExportFolder.Resolve(Path.Combine(data.Path, "exports"), Path.Combine(data.Path, "exports-other", "x.qcow2")));
    }

    [Fact]
    public void A_relative_file_and_an_absolute_one_inside_the_folder_resolve_in_it()
    {
        using var data = new TempFolder();
        var folder = Path.Combine(data.Path, "exports");
        Assert.Equal(Path.Combine(folder, "pc-1", "monday.qcow2"), ExportFolder.Resolve(folder, "pc-1/monday.qcow2"));
        Assert.Equal(Path.Combine(folder, "pc-1", "monday.qcow2"), ExportFolder.Resolve(folder, Path.Combine(folder, "pc-1", "monday.qcow2")));
        Assert.Equal(("monday", Path.Combine(folder, "pc-1", "monday.qcow2")), ExportFolder.Target(folder, "monday:pc-1/monday.qcow2"));
        Assert.Throws<VmDriverException>(() => ExportFolder.Target(folder, "monday:/tmp/monday.qcow2"));
        Assert.Throws<VmDriverException>(() => ExportFolder.Target(folder, "monday"));
    }
}
