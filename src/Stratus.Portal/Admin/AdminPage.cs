using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Logging;
using Microsoft.FluentUI.AspNetCore.Components;

namespace Stratus.Portal.Admin;

/// <summary>
/// What every admin page shares: the API as the signed-in admin, one place for the API's refusals, and live
/// pages that re-read what they show every few seconds so that status changes appear without a refresh.
/// </summary>
public abstract class AdminPage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource stopping = new();

    [Inject]
    protected AdminApi Api { get; set; } = null!;

    [Inject]
    protected IToastService Toasts { get; set; } = null!;

    [Inject]
    private ILogger<AdminPage> Logger { get; set; } = null!;

    protected ClaimsPrincipal User { get; private set; } = new();

    /// <summary>What the last read or action was refused with; shown at the top of the page.</summary>
    protected string? Error { get; set; }

    protected bool Loaded { get; private set; }

    /// <summary>Set to re-read the page every this often while it is open.</summary>
    protected virtual TimeSpan? LiveInterval => null;

    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    protected override async Task OnInitializedAsync()
    {
        User = await Api.UserAsync();
        if (!User.IsAdmin())
        {
            return;
        }

        await ReloadAsync();
        if (LiveInterval is { } interval)
        {
            _ = RefreshLiveAsync(interval);
        }
    }

    protected async Task ReloadAsync()
    {
        try
        {
            await LoadAsync(stopping.Token);
            Error = null;
        }
        catch (ApiException e)
        {
            Error = e.Problem.ToString();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
        {
            // A defect of this page, not of the admin's request: say so and keep the portal running.
            Logger.LogError(e, "The admin page {Page} could not read what the API answered", GetType().Name);
            Error = "This page could not read what Stratus answered; the details are in the server's log. Try reloading the page.";
        }

        Loaded = true;
    }

    /// <summary>Runs an action; a refusal is shown as a toast with the API's message, success with <paramref name="done"/>.</summary>
    protected async Task<ApiResult> ActAsync(Func<Task<ApiResult>> action, string done)
    {
        var result = await action();
        if (result.Succeeded)
        {
            Toasts.ShowSuccess(done);
            await ReloadAsync();
        }
        else
        {
            Toasts.ShowError(result.Problem!.ToString());
        }

        return result;
    }

    private async Task RefreshLiveAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token))
            {
                await InvokeAsync(async () =>
                {
                    await ReloadAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page was left.
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
