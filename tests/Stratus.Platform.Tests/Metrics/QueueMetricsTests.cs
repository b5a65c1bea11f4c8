using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Messaging;
using Stratus.Platform.Metrics;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Metrics;

/// <summary>The queue gauges, read from the platform store by the snapshot refresher, on both providers.</summary>
[Collection(PostgresCollection.Name)]
public sealed class QueueMetricsTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task DeadLetter_IsCountedInItsQueue_AndTheStoreIsUp(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);
        await using var host = await MessagingHost.StartAsync(database, output,
            messaging: options =>
            {
                options.MaxAttempts = 2;
                options.FirstRetryDelay = TimeSpan.FromMilliseconds(100);
            },
            services: services => services.Configure<MetricsOptions>(o => o.RefreshInterval = TimeSpan.FromMilliseconds(200)));
        using var gauges = new GaugeReader(host.App.Services.GetRequiredService<IMeterFactory>());

        await host.ServiceAsync(db =>
        {
            db.Publish(new FlakyWork(Guid.NewGuid()));
            return db.SaveChangesAsync();
        });

        await Eventually.WaitForAsync(() => Task.FromResult(gauges.Read("stratus.queue.dead_letters", "queue", MessagingHost.QueueA)),
            v => v == 1, "the dead letter of queue alpha to be counted");
        Assert.Equal<double?>(0, gauges.Read("stratus.queue.dead_letters", "queue", MessagingHost.QueueB));
        Assert.Equal<double?>(0, gauges.Read("stratus.queue.depth", "queue", MessagingHost.QueueA));
        Assert.Equal<double?>(0, gauges.Read("stratus.queue.oldest_message.age", "queue", MessagingHost.QueueA));
        Assert.Equal<double?>(1, gauges.Read("stratus.store.up", "store", PlatformDbContext.SchemaName));
        Assert.Equal<double?>(1, gauges.Read("stratus.store.up", "store", TestDbContext.SchemaName));
        Assert.Equal<double?>(0, gauges.Read("stratus.outbox.pending", "store", TestDbContext.SchemaName));
    }

    /// <summary>Reads the observable gauges of one host's meters (other hosts in parallel tests have meters of the same names).</summary>
    private sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly ConcurrentDictionary<(string Name, string Tag), double> values = new();

        public GaugeReader(IMeterFactory meters)
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Meter.Name == PlatformMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
            listener.Start();
        }

        public double? Read(string name, string tagName, string tagValue)
        {
            values.Clear();
            listener.RecordObservableInstruments();
            return values.TryGetValue((name, $"{tagName}={tagValue}"), out var value) ? value : null;
        }

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                values[(instrument.Name, $"{tag.Key}={tag.Value}")] = value;
            }
        }

        public void Dispose() => listener.Dispose();
    }
}
