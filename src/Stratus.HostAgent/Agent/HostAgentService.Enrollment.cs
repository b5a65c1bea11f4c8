using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.HostAgent.Agent;

/// <summary>Enrollment: the host's identity, asked for once with the enrollment token and kept in agent.json.</summary>
public sealed partial class HostAgentService
{
    private async Task<AgentIdentity> EnsureEnrolledAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(options.DataFolder, IdentityFile);
        if (File.Exists(path))
        {
            await using var stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<AgentIdentity>(stream, Json, cancellationToken)
                ?? throw new InvalidOperationException($"{path} is empty; remove it and enroll again.");
        }

        if (string.IsNullOrEmpty(options.EnrollmentToken))
        {
            throw new InvalidOperationException($"This host is not enrolled yet ({path} does not exist): give --enrollment-token.");
        }

        var request = new EnrollRequest(options.EnrollmentToken, options.Name, options.Region, options.Zone, driver.Name, accelerator,
            options.VCpus, options.MemoryMiB, options.DiskGiB, AgentVersion);
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("/api/v1/agent/enroll", request, Json, cancellationToken);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            throw new InvalidOperationException($"Refused to enroll at {options.ControlPlane}: its TLS certificate is not "
                + (options.ControlPlanePin is { } pin ? $"the pinned one ({pin}; see the line above)." : "trusted by this machine; give the pin it prints with --control-plane-cert-hash."), e);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"Cannot reach the control plane at {options.ControlPlane} to enroll: {e.Message}. Check --control-plane.", e);
        }

        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"Enrollment refused ({(int)response.StatusCode}): {problem}");
        }

        var enrolled = await response.Content.ReadFromJsonAsync<EnrollResponse>(Json, cancellationToken)
            ?? throw new InvalidOperationException("Enrollment answered nothing.");
        var saved = new AgentIdentity(enrolled.HostId, enrolled.AgentToken, enrolled.Region, enrolled.Zone, options.ControlPlanePin?.Value);
        var options_ = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options_.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(path, options_))
        {
            await JsonSerializer.SerializeAsync(stream, saved, Json, cancellationToken);
        }

        return saved;
    }
}
