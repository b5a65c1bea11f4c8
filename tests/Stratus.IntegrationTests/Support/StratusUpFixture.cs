using Stratus.Testing;

namespace Stratus.IntegrationTests.Support;

/// <summary>One `stratus up` (SQLite in a temporary data folder) shared by the tests of a class.</summary>
public sealed class StratusUpFixture : IAsyncLifetime
{
    private readonly TempFolder data = new();
    private StratusProcess? process;

    public StratusProcess Stratus => process ?? throw new InvalidOperationException("The fixture has not started.");

    public async Task InitializeAsync() => process = await StratusProcess.StartAsync(["up"], data.Path);

    public async Task DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }

        data.Dispose();
    }
}
