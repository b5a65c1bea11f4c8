using System.Text;
using System.Text.Json;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>What a VM is: its spec, written at create and at resize (vm.json).</summary>
internal sealed record VmRecord(int FormatVersion, VmSpec Spec, DateTimeOffset CreatedAt)
{
    public const int CurrentFormatVersion = 1;
}

/// <summary>
/// Present from a start until a stop (runtime.json): the VM is meant to run. Found without a live process,
/// it tells a crash from a VM that was stopped.
/// </summary>
internal sealed record VmRuntime(int ProcessId, string Accelerator, VmSize BootedSize, DateTimeOffset StartedAt);

/// <summary>
/// One VM's folder, DATA/vms/ID/. Everything the VM is lives here, so that deleting the folder leaves nothing:
/// vm.json, disk.qcow2 (a copy-on-write clone of the image's base disk, with the internal snapshots),
/// runtime.json, and while it runs QEMU's qemu.pid, qmp.sock, serial.sock and vnc.sock; qemu.log (QEMU's own messages); serial.log
/// (this boot) and serial.log.1 (the boot before).
/// </summary>
internal sealed class VmFolder(string path)
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Path { get; } = path;
    public string Id => System.IO.Path.GetFileName(Path);
    public string RecordFile => Combine("vm.json");
    public string RuntimeFile => Combine("runtime.json");
    public string DiskFile => Combine("disk.qcow2");
    public string PidFile => Combine("qemu.pid");
    public string QmpSocket => Combine("qmp.sock");
    public string SerialSocket => Combine("serial.sock");
    public string SerialLog => Combine("serial.log");
    public string PreviousSerialLog => Combine("serial.log.1");
    public string VncSocket => Combine("vnc.sock");

    /// <summary>QEMU's standard error (its messages when it cannot start), this run's.</summary>
    public string QemuLog => Combine("qemu.log");

    /// <summary>Part of the QEMU command line (-pidfile PATH) that only this VM's process has.</summary>
    public string ProcessMark => PidFile;

    public VmConsoleEndpoints Console => new(VncSocket, SerialSocket, SerialLog);

    public bool Exists => File.Exists(RecordFile);

    public VmRecord ReadRecord()
    {
        var record = JsonSerializer.Deserialize<VmRecord>(File.ReadAllText(RecordFile), JsonOptions)
            ?? throw new VmDriverException($"{RecordFile} is empty.");
        if (record.FormatVersion > VmRecord.CurrentFormatVersion)
        {
            throw new VmDriverException($"{RecordFile} has format version {record.FormatVersion}; this agent reads up to {VmRecord.CurrentFormatVersion}.");
        }

        return record;
    }

    public void WriteRecord(VmRecord record) => WriteAtomically(RecordFile, JsonSerializer.Serialize(record, JsonOptions));

    public VmRuntime? ReadRuntime()
    {
        try
        {
            return JsonSerializer.Deserialize<VmRuntime>(File.ReadAllText(RuntimeFile), JsonOptions);
        }
        catch (Exception exception) when (exception is FileNotFoundException or JsonException)
        {
            return null;
        }
    }

    public void WriteRuntime(VmRuntime runtime) => WriteAtomically(RuntimeFile, JsonSerializer.Serialize(runtime, JsonOptions));

    /// <summary>The pid QEMU wrote, or null.</summary>
    public int? ReadPid()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) && pid > 0 ? pid : null;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The pid of this VM's live QEMU process, or null when none runs.</summary>
    public int? RunningPid() => ReadPid() is { } pid && HostProcess.IsRunning(pid, ProcessMark) ? pid : null;

    /// <summary>Removes what a run leaves: QEMU does not always remove its sockets and pid file (a kill never does).</summary>
    public void ClearRunFiles(bool includingRuntime)
    {
        foreach (var file in new[] { PidFile, QmpSocket, SerialSocket, VncSocket })
        {
            File.Delete(file);
        }

        if (includingRuntime)
        {
            File.Delete(RuntimeFile);
        }
    }

    /// <summary>Keeps the previous boot's log for diagnosis; each boot's readiness is judged on its own log.</summary>
    public void RotateSerialLog()
    {
        if (File.Exists(SerialLog))
        {
            File.Move(SerialLog, PreviousSerialLog, overwrite: true);
        }
    }

    public string ReadSerialLog()
    {
        try
        {
            using var stream = new FileStream(SerialLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return "";
        }
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);

    private static void WriteAtomically(string path, string content)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
