using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// Carries a VM's display to a gateway instance that asked for it. A host takes no inbound connections: the
/// gateway lists a relay (URL and secret) in the host's desired state, and the agent dials out to it once and
/// bridges the WebSocket to the VM's VNC socket until either side closes.
/// </summary>
/// <remarks>A wss:// gateway is trusted by the machine's store or, as the rest of the control plane, by the host's pin.</remarks>
internal sealed partial class ConsoleRelayDialer(IVmDriver driver, ControlPlanePin? pin, ILogger logger)
{
    public const string SecretHeader = "X-Stratus-Relay-Secret";
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    // Relays dialed, until the desired state no longer lists them (they expire there after 30 s).
    private readonly ConcurrentDictionary<Guid, byte> dialed = new();

    /// <summary>Dials each listed relay not dialed yet; returns at once (the bridges run on their own).</summary>
    public void Dial(IReadOnlyList<DesiredConsoleRelay>? relays, CancellationToken stoppingToken)
    {
        var listed = (relays ?? []).Select(r => r.Id).ToHashSet();
        foreach (var gone in dialed.Keys.Where(id => !listed.Contains(id)))
        {
            dialed.TryRemove(gone, out _);
        }

        foreach (var relay in relays ?? [])
        {
            if (dialed.TryAdd(relay.Id, 0))
            {
                _ = Task.Run(() => RelayAsync(relay, stoppingToken), CancellationToken.None);
            }
        }
    }

    private async Task RelayAsync(DesiredConsoleRelay relay, CancellationToken stoppingToken)
    {
        try
        {
            var vm = await driver.GetAsync(HostAgentService.DriverId(relay.VmId), stoppingToken);
            if (vm is not { PowerState: VmPowerState.Running } || string.IsNullOrEmpty(vm.Console.VncSocketPath))
            {
                LogNoDisplay(logger, relay.VmId, vm?.PowerState.ToString() ?? "not on this host");
                return;
            }

            using var display = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await display.ConnectAsync(new UnixDomainSocketEndPoint(vm.Console.VncSocketPath), stoppingToken);

            using var gateway = new ClientWebSocket();
            gateway.Options.SetRequestHeader(SecretHeader, relay.Secret);
            if (pin is not null)
            {
                gateway.Options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => errors == System.Net.Security.SslPolicyErrors.None || pin.Matches(certificate, chain, errors);
            }

            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                connecting.CancelAfter(ConnectTimeout);
                await gateway.ConnectAsync(new Uri(relay.Url), connecting.Token);
            }

            LogRelaying(logger, relay.VmId, relay.Id);
            await using var toGateway = WebSocketStream.Create(gateway, WebSocketMessageType.Binary, ownsWebSocket: false);
            await using var toDisplay = new NetworkStream(display, ownsSocket: false);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var up = toDisplay.CopyToAsync(toGateway, done.Token);
            var down = toGateway.CopyToAsync(toDisplay, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
            await Task.WhenAll(up, down).ContinueWith(_ => { }, TaskScheduler.Default);
            if (gateway.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await gateway.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "display closed", closing.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            LogRelayEnded(logger, relay.VmId, relay.Id);
        }
        catch (Exception e) when (e is SocketException or WebSocketException or IOException or OperationCanceledException or VmDriverException)
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                LogRelayFailed(logger, relay.VmId, relay.Url, e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Console relay {RelayId}: the display of VM {VmId} is carried to the gateway")]
    private static partial void LogRelaying(ILogger logger, Guid vmId, Guid relayId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Console relay {RelayId} of VM {VmId} ended")]
    private static partial void LogRelayEnded(ILogger logger, Guid vmId, Guid relayId);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Console relay of VM {VmId} to {Url} failed: {Reason}")]
    private static partial void LogRelayFailed(ILogger logger, Guid vmId, string url, string reason);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Console relay of VM {VmId} not dialed: the VM has no display to carry ({State})")]
    private static partial void LogNoDisplay(ILogger logger, Guid vmId, string state);
}
