using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>An asynchronous event QEMU sent (POWERDOWN, SHUTDOWN, RESET, ...).</summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp);

/// <summary>QEMU answered a command with an error.</summary>
public sealed class QmpException(string command, string errorClass, string description)
    : VmDriverException($"QMP {command} failed: {errorClass}: {description}")
{
    public string ErrorClass { get; } = errorClass;
}

/// <summary>
/// A QEMU Machine Protocol client over a unix socket: one JSON object a line; the greeting, then
/// qmp_capabilities leaves negotiation mode; each command carries an id that its answer echoes, and events
/// arrive in between. QEMU serves one client at a time on a monitor, so the driver connects per operation
/// and disconnects at once.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>();
    private readonly CancellationTokenSource _stopping = new();
    private Task _readLoop = Task.CompletedTask;
    private volatile bool _closed;
    private long _nextId;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
    }

    /// <summary>Events in the order QEMU sent them; completes when the connection closes.</summary>
    public ChannelReader<QmpEvent> Events => _events.Reader;

    /// <summary>Connects, reads the greeting and negotiates capabilities, all within <paramref name="timeout"/>.</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        QmpClient? client = null;
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), deadline.Token);
            client = new QmpClient(socket);
            // QEMU greets only the client it serves: a second client waits here until the first leaves.
            var greeting = await client._reader.ReadLineAsync(deadline.Token)
                ?? throw new VmDriverException($"QMP at {socketPath} closed before its greeting.");
            if (!greeting.Contains("\"QMP\"", StringComparison.Ordinal))
            {
                throw new VmDriverException($"QMP at {socketPath} greeted with something else: {greeting}");
            }

            client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
            await client.ExecuteAsync("qmp_capabilities", null, deadline.Token);
            return client;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(client, socket);
            throw new TimeoutException($"QMP at {socketPath} did not answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            await DisposeQuietlyAsync(client, socket);
            throw;
        }
    }

    /// <summary>Runs a command and returns its "return" value; throws <see cref="QmpException"/> on an error answer.</summary>
    public async Task<JsonElement> ExecuteAsync(string command, JsonObject? arguments = null, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        if (_closed)
        {
            answer.TrySetException(new VmDriverException("QMP connection is closed."));
        }

        var request = new JsonObject { ["execute"] = command, ["id"] = id };
        if (arguments is not null)
        {
            request["arguments"] = arguments.DeepClone();
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                await _stream.WriteAsync(bytes, cancellationToken);
            }
            finally
            {
                _writeLock.Release();
            }

            var reply = await answer.Task.WaitAsync(cancellationToken);
            if (reply.TryGetProperty("error", out var error))
            {
                throw new QmpException(command,
                    error.TryGetProperty("class", out var errorClass) ? errorClass.GetString() ?? "" : "",
                    error.TryGetProperty("desc", out var desc) ? desc.GetString() ?? "" : "");
            }

            return reply.TryGetProperty("return", out var value) ? value : default;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (await _reader.ReadLineAsync(_stopping.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                using var document = JsonDocument.Parse(line);
                var message = document.RootElement.Clone();
                if (message.TryGetProperty("event", out var name))
                {
                    var data = message.TryGetProperty("data", out var d) ? d : default;
                    var timestamp = message.TryGetProperty("timestamp", out var t)
                        ? DateTimeOffset.FromUnixTimeSeconds(t.GetProperty("seconds").GetInt64())
                            .AddTicks(t.GetProperty("microseconds").GetInt64() * 10)
                        : DateTimeOffset.MinValue;
                    _events.Writer.TryWrite(new QmpEvent(name.GetString() ?? "", data, timestamp));
                }
                else if (message.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number
                         && _pending.TryGetValue(id.GetInt64(), out var answer))
                {
                    answer.TrySetResult(message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception exception) when (exception is IOException or SocketException or JsonException or ObjectDisposedException)
        {
            failure = exception;
        }

        _closed = true;
        _events.Writer.TryComplete();
        // QEMU closes the connection when it exits: `quit` and a guest power-off end here.
        foreach (var answer in _pending.Values)
        {
            answer.TrySetException(new VmDriverException("QMP connection closed before the answer.", failure ?? new EndOfStreamException()));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket.Dispose();
        await _readLoop;
        _reader.Dispose();
        await _stream.DisposeAsync();
        _stopping.Dispose();
        _writeLock.Dispose();
    }

    private static async Task DisposeQuietlyAsync(QmpClient? client, Socket socket)
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }

        socket.Dispose();
    }
}
