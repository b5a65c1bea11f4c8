using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Identity.Clients;
using Stratus.Platform.Regions;
using Stratus.Platform.Tests.Support;

namespace Stratus.Platform.Tests.Regions;

/// <summary>
/// A region's instance in miniature: <see cref="MessagingHost"/> (queues, outbox relay, the test service) that is also
/// its own identity for service tokens (identity's real token endpoint, as all in one), with a write endpoint, in
/// region A following <paramref name="frontDoor"/>'s lease when one is given (else a single region).
/// </summary>
internal static class RegionHost
{
    public const string Region = "A";
    public const string ItemsPath = "/api/v1/regionTests/items";

    public static async Task<MessagingHost> StartAsync(TestDatabase database, ITestOutputHelper output, StandInFrontDoor? frontDoor, IRegionStore? store = null,
        Action<IServiceCollection>? services = null)
    {
        var host = MessagingHost.Build(database, output, "region-a", services: registered =>
        {
            services?.Invoke(registered);
            registered.AddSingleton<TokenExchange>();
            if (frontDoor is not null)
            {
                registered.Configure<RegionOptions>(options =>
                {
                    options.Name = Region;
                    options.FrontDoorUrls.Add(frontDoor.Url);
                });
            }

            if (store is not null)
            {
                registered.AddSingleton(store);
            }
        });
        try
        {
            host.App.MapTokenEndpoint();
            host.App.MapPost(ItemsPath, async (NewItem item, TestDbContext db) =>
            {
                var id = Guid.NewGuid();
                db.Items.Add(new Item { Id = id, Name = item.Name });
                await db.SaveChangesAsync();
                return Results.Created($"{ItemsPath}/{id}", new { id });
            }).RequireAuthorization();
            await host.RunStartupTasksAsync();
            await host.CreateServiceTablesAsync();
            await host.StartAsync();
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public static RegionWritability Writability(this MessagingHost host) => host.App.Services.GetRequiredService<RegionWritability>();

    public sealed record NewItem(string Name);
}
