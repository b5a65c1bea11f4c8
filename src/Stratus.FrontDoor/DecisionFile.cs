using System.Text.Json;

namespace Stratus.FrontDoor;

/// <summary>What the front door decided, as it is kept on disk: a restart must never forget an epoch or a pending switch.</summary>
/// <param name="Version">The file's format; a newer one is refused rather than misread.</param>
/// <param name="Pending">A change of writable region under way: the old region gets no lease while it waits for the last one to run out.</param>
public sealed record RegionDecision(int Version, string WritableRegion, long Epoch, RegionSwitch? Pending, RegionChange? LastChange);

/// <param name="Reason">Why: "failover: ..." (automatic) or "switchover by NAME".</param>
public sealed record RegionSwitch(string From, string To, string Reason, DateTimeOffset RequestedAt);

public sealed record RegionChange(string From, string To, long Epoch, DateTimeOffset At, string Reason);

/// <summary>DATA/frontdoor/decision.json, replaced whole and atomically (written beside it, flushed, renamed over it).</summary>
internal sealed class DecisionFile(string dataFolder)
{
    public const int CurrentVersion = 1;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Path { get; } = System.IO.Path.Combine(dataFolder, "frontdoor", "decision.json");

    public RegionDecision? Read()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        var decision = JsonSerializer.Deserialize<RegionDecision>(File.ReadAllText(Path), Json)
            ?? throw new InvalidDataException($"{Path} is empty; restore it from a backup, or delete it to start again from the configured region.");
        return decision.Version <= CurrentVersion
            ? decision
            : throw new InvalidDataException($"{Path} has format {decision.Version}, newer than this front door's {CurrentVersion}: run the newer version.");
    }

    public void Write(RegionDecision decision)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temporary = Path + ".new";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, decision, Json);
            // On disk before the rename: after a power cut the file is the old decision or the new one, never half of one.
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path, overwrite: true);
    }
}
