using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Http;

namespace Stratus.Platform.Tests.Http;

/// <summary>Service-to-service calls against a real HTTP server on 127.0.0.1 that fails on purpose.</summary>
public sealed class ServiceCallResilienceTests : IAsyncLifetime
{
    private WebApplication server = null!;
    private ServiceProvider services = null!;
    private int gets;
    private int posts;
    private int counted;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        server = builder.Build();
        // Fails twice, then answers: a service that was restarting.
        server.MapGet("/flaky", () => Interlocked.Increment(ref gets) <= 2 ? Results.StatusCode(503) : Results.Text("fine"));
        server.MapPost("/flaky", () =>
        {
            Interlocked.Increment(ref posts);
            return Results.StatusCode(503);
        });
        server.MapPost("/counted", () => Results.Text($"call {Interlocked.Increment(ref counted)}"));
        server.MapPost("/hangs", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromMinutes(2), cancellationToken);
            return Results.Text("late");
        });
        await server.StartAsync();
        var collection = new ServiceCollection();
        collection.AddServiceCallClient();
        services = collection.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task A_read_is_retried_until_the_other_service_answers()
    {
        using var response = await Client().GetAsync("/flaky");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fine", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, gets);
    }

    [Fact]
    public async Task A_write_is_sent_once_and_its_failure_returned_to_the_caller()
    {
        using var response = await Client().PostAsync("/flaky", null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, posts);
    }

    [Fact]
    public async Task A_call_that_gets_no_answer_ends_after_the_attempt_timeout_as_an_http_error()
    {
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => Client().PostAsync("/hangs", null));

        Assert.Contains("did not answer POST /hangs in time", error.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, ServiceCallResilience.AttemptTimeout - TimeSpan.FromSeconds(1), ServiceCallResilience.AttemptTimeout + TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Calls_move_to_the_next_instance_when_the_first_cannot_be_reached_and_stay_there()
    {
        // An instance in another zone that is down: nothing listens on its port.
        var down = new Uri($"http://127.0.0.1:{Stratus.Testing.FreePort.Next()}");
        var instances = new InstanceList([down, new Uri(server.Urls.First())]);
        var movedTo = new List<Uri>();
        instances.FailedOver += movedTo.Add;
        var handlers = services.GetRequiredService<IHttpMessageHandlerFactory>();
        using var client = new HttpClient(new InstanceFailover(instances, handlers.CreateHandler(ServiceCallResilience.ClientName)), disposeHandler: false)
        {
            BaseAddress = instances.Current,
        };

        using var first = await client.PostAsync("/counted", null);
        using var second = await client.PostAsync("/counted", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, counted);
        Assert.Equal([new Uri(server.Urls.First())], movedTo);
        Assert.Equal(new Uri(server.Urls.First()), instances.Current);
    }

    private HttpClient Client()
    {
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(ServiceCallResilience.ClientName);
        client.BaseAddress = new Uri(server.Urls.First());
        client.Timeout = ServiceCalls.Timeout;
        return client;
    }
}
