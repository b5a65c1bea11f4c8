using System.Text.Json;

namespace Stratus.HostAgent.Agent;

/// <summary>Finished operations, on disk, so that none runs twice across agent restarts.</summary>
internal sealed class OperationJournal(List<ReportedOperation> results)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private string path = "";

    public IReadOnlyList<ReportedOperation> Results
    {
        get
        {
            lock (results)
            {
                return results.ToList();
            }
        }
    }

    public bool Contains(Guid id)
    {
        lock (results)
        {
            return results.Any(r => r.Id == id);
        }
    }

    public static async Task<OperationJournal> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var loaded = File.Exists(path)
            ? JsonSerializer.Deserialize<List<ReportedOperation>>(await File.ReadAllTextAsync(path, cancellationToken)) ?? []
            : [];
        return new OperationJournal(loaded) { path = path };
    }

    public Task AddAsync(ReportedOperation result, CancellationToken cancellationToken) => UpdateAsync(list => list.Add(result), cancellationToken);

    public Task RetainAsync(HashSet<Guid> pending, CancellationToken cancellationToken) => UpdateAsync(list => list.RemoveAll(r => !pending.Contains(r.Id)), cancellationToken);

    private async Task UpdateAsync(Action<List<ReportedOperation>> change, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            string json;
            lock (results)
            {
                change(results);
                json = JsonSerializer.Serialize(results);
            }

            // Write then rename: a crash mid-write leaves the old journal, never half of one.
            await File.WriteAllTextAsync(path + ".tmp", json, cancellationToken);
            File.Move(path + ".tmp", path, overwrite: true);
        }
        finally
        {
            gate.Release();
        }
    }
}
