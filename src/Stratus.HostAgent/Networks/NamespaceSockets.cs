using System.Net.Sockets;
using System.Runtime.InteropServices;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// Sockets of another network namespace, made by the agent itself (no helper process): a socket belongs to the
/// namespace of the thread that creates it, so a dedicated thread enters the namespace (setns), creates the socket and
/// ends; the socket is then used as any other, from any thread. Used by the checks, which look at a tenant's network
/// as a guest on it would.
/// </summary>
internal static class NamespaceSockets
{
    private const int CloneNewNet = 0x40000000;

    public static Socket Create(string networkNamespace, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{networkNamespace}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new VmDriverException($"Cannot enter network namespace {networkNamespace}: errno {Marshal.GetLastPInvokeError()}.");
                }

                // This thread stays in the namespace until it ends, right after: nothing else runs on it.
                socket = new Socket(family, type, protocol);
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        })
        {
            IsBackground = true,
            Name = "netns " + networkNamespace,
        };
        thread.Start();
        thread.Join();
        return socket ?? throw (failure is FileNotFoundException
            ? new VmDriverException($"Network namespace {networkNamespace} does not exist.", failure)
            : failure ?? new VmDriverException($"No socket in {networkNamespace}."));
    }

    // DllImport, not LibraryImport: the generated marshalling needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nsType);
}
