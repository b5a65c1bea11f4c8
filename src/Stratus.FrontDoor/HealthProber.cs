using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Stratus.FrontDoor;

/// <summary>
/// Asks every instance's /readyz every probe interval (active health), then lets the decider act on what it learnt:
/// the only clock of failovers and of the end of a switch.
/// </summary>
internal sealed class HealthProber(
    IHttpClientFactory clients, RegionHealth health, RegionDecider decider, IOptions<FrontDoorOptions> options, TimeProvider clock, ILogger<HealthProber> logger)
    : BackgroundService
{
    public const string ClientName = "frontdoor-probe";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var http = clients.CreateClient(ClientName);
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.WhenAll(health.All.Select(instance => ProbeAsync(http, instance, stoppingToken)));
            decider.Evaluate();
            try
            {
                await Task.Delay(options.Value.ProbeInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ProbeAsync(HttpClient http, InstanceHealth instance, CancellationToken stoppingToken)
    {
        string? error;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            deadline.CancelAfter(options.Value.ProbeTimeout);
            using var response = await http.GetAsync(new Uri(instance.Url, "/readyz"), deadline.Token);
            error = response.IsSuccessStatusCode ? null : $"/readyz answered {(int)response.StatusCode}";
        }
        catch (HttpRequestException e)
        {
            error = e.Message;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            error = $"/readyz did not answer within {options.Value.ProbeTimeout.TotalSeconds:0.#} s";
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // Said once per change: when it was healthy, or at its first probe (no error recorded yet).
        var changed = error is null ? !instance.Healthy : instance.LastError is null;
        if (error is null)
        {
            instance.Succeeded(clock.GetUtcNow());
            if (changed)
            {
                FrontDoorLog.InstanceHealthy(logger, instance.Url, instance.Region);
            }
        }
        else
        {
            instance.Failed(error);
            if (changed)
            {
                FrontDoorLog.InstanceUnhealthy(logger, instance.Url, instance.Region, error);
            }
        }
    }
}
