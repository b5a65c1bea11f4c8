using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Settings;

public sealed record RestorePointSettingView(string FrequencyType, bool UserRestoreEnabled);

public sealed record UserSettingAssignmentView(Guid Id, UserSettingTarget Target, int Priority, DateTimeOffset AssignedDateTime);

public sealed record UserSettingTarget(Guid? GroupId);

public sealed record UserSettingView(
    Guid Id, string DisplayName, bool LocalAdminEnabled, bool ResetEnabled, RestorePointSettingView RestorePointSetting,
    DateTimeOffset CreatedDateTime, DateTimeOffset LastModifiedDateTime, IReadOnlyList<UserSettingAssignmentView> Assignments,
    CrossRegionDisasterRecoverySettingView CrossRegionDisasterRecoverySetting, int DiskCopyFrequencyInMinutes)
{
    public static UserSettingView From(UserSetting s, IEnumerable<UserSettingAssignment> assignments) => new(
        s.Id, s.DisplayName, s.LocalAdminEnabled, s.ResetEnabled,
        new RestorePointSettingView(UserSettingsApi.FrequencyName(s.RestorePointFrequency), s.UserRestoreEnabled), s.CreatedAt, s.LastModifiedAt,
        assignments.Where(a => a.UserSettingId == s.Id).OrderBy(a => a.Priority).ThenBy(a => a.AssignedAt)
            .Select(a => new UserSettingAssignmentView(a.Id, new UserSettingTarget(a.GroupId), a.Priority, a.AssignedAt)).ToList(),
        CrossRegionDisasterRecoverySettingView.From(s), s.DiskCopyFrequencyInMinutes);
}

public sealed record RestorePointSettingRequest(string? FrequencyType, bool? UserRestoreEnabled);

public sealed record UserSettingRequest(
    string? DisplayName, bool? LocalAdminEnabled, bool? ResetEnabled, RestorePointSettingRequest? RestorePointSetting,
    CrossRegionDisasterRecoverySettingRequest? CrossRegionDisasterRecoverySetting = null, int? DiskCopyFrequencyInMinutes = null);

public sealed record UserSettingAssignmentRequest(UserSettingTarget? Target, int? Priority);

public sealed record AssignUserSettingRequest(List<UserSettingAssignmentRequest>? Assignments);

/// <summary>Graph's cloudPcUserSetting: create, read, edit, delete and assign to groups with a priority, per tenant.</summary>
public static class UserSettingsApi
{
    private static readonly Dictionary<string, RestorePointFrequency> Frequencies = new(StringComparer.Ordinal)
    {
        ["default"] = RestorePointFrequency.TwelveHours,
        ["fourHours"] = RestorePointFrequency.FourHours,
        ["sixHours"] = RestorePointFrequency.SixHours,
        ["twelveHours"] = RestorePointFrequency.TwelveHours,
        ["sixteenHours"] = RestorePointFrequency.SixteenHours,
        ["twentyFourHours"] = RestorePointFrequency.TwentyFourHours,
    };

    public static string FrequencyName(RestorePointFrequency frequency) => Frequencies.First(f => f.Value == frequency && f.Key != "default").Key;

    public static IEndpointRouteBuilder MapUserSettingsApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/userSettings").WithTags("User settings").RequireAuthorization(StratusPolicies.CloudPcReader);
        var write = endpoints.MapGroup("/api/v1/userSettings").WithTags("User settings").RequireAuthorization(StratusPolicies.CloudPcAdministrator);
        read.MapGet("/", ListAsync).WithName("ListUserSettings");
        read.MapGet("/{id:guid}", GetAsync).WithName("GetUserSetting");
        write.MapPost("/", CreateAsync).WithName("CreateUserSetting");
        write.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateUserSetting");
        write.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteUserSetting");
        write.MapPost("/{id:guid}/assign", AssignAsync).WithName("AssignUserSetting")
            .WithSummary("Replace the setting's assignments: {assignments:[{target:{groupId}, priority}]}; priority 1 is the highest");
        endpoints.MapGet("/api/v1/me/userSetting", MineAsync).WithTags("User settings").RequireAuthorization(StratusPolicies.TenantMember)
            .WithName("MyUserSetting").WithSummary("The setting that applies to the signed-in user (their groups' best priority), or the defaults");
        return endpoints;
    }

    private static async Task<Ok<UserSettingView>> MineAsync(HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var setting = await EffectiveAsync(db, http.User.RequiredTenantId(), http.User.AccountId(), cancellationToken);
        return TypedResults.Ok(setting is null
            ? new UserSettingView(Guid.Empty, "Default", false, false, new RestorePointSettingView("twelveHours", false), default, default, [],
                CrossRegionDisasterRecoverySettingView.Default, UserSetting.DefaultDiskCopyFrequencyInMinutes)
            : UserSettingView.From(setting, []));
    }

    private static async Task<Results<Ok<PagedResult<UserSettingView>>, ValidationProblem>> ListAsync(
        HttpContext http, ProvisioningDbContext db, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.UserSettings.AsNoTracking().Where(s => s.TenantId == tenant);
        var page = await query.OrderBy(s => s.DisplayName).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        var ids = page.Select(s => s.Id).ToList();
        var assignments = await db.UserSettingAssignments.AsNoTracking().Where(a => ids.Contains(a.UserSettingId)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<UserSettingView>(page.Select(s => UserSettingView.From(s, assignments)).ToList(), await query.CountAsync(cancellationToken)));
    }

    private static async Task<Results<Ok<UserSettingView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var setting = await db.UserSettings.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id && s.TenantId == tenant, cancellationToken);
        return setting is null
            ? Problems.NotFound("user setting", id)
            : TypedResults.Ok(UserSettingView.From(setting, await db.UserSettingAssignments.AsNoTracking().Where(a => a.UserSettingId == id).ToListAsync(cancellationToken)));
    }

    private static async Task<Results<Created<UserSettingView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        UserSettingRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, IConfiguration configuration, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var validator = new Validator().Require("displayName", request?.DisplayName, maxLength: 128);
        var frequency = ValidateFrequency(request, validator);
        DisasterRecoverySettings.Validate(request, null, configuration, validator);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var name = request!.DisplayName!.Trim();
        if (await db.UserSettings.AnyAsync(s => s.TenantId == tenant && s.DisplayName == name, cancellationToken))
        {
            return Problems.Conflict("user-setting-exists", $"A user setting named '{name}' exists already; choose another name.");
        }

        var now = clock.GetUtcNow();
        var setting = new UserSetting
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenant,
            DisplayName = name,
            LocalAdminEnabled = request.LocalAdminEnabled ?? false,
            ResetEnabled = request.ResetEnabled ?? false,
            RestorePointFrequency = frequency ?? RestorePointFrequency.TwelveHours,
            UserRestoreEnabled = request.RestorePointSetting?.UserRestoreEnabled ?? false,
            CreatedAt = now,
            LastModifiedAt = now,
        };
        DisasterRecoverySettings.Apply(request, setting);
        if (await DisasterRecoverySettings.SameRegionAsPolicyAsync(db, tenant, setting, cancellationToken) is { } sameRegion)
        {
            return Problems.Validation("crossRegionDisasterRecoverySetting.disasterRecoveryNetworkSetting.regionName", sameRegion);
        }

        db.UserSettings.Add(setting);
        db.Audit(clock, tenant, AuditActor.From(http), "userSetting", "Create", $"Created user setting {setting.DisplayName}", true,
            new AuditResource(setting.Id.ToString(), "userSetting", setting.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/userSettings/{setting.Id}", UserSettingView.From(setting, []));
    }

    private static async Task<Results<Ok<UserSettingView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UserSettingRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, IConfiguration configuration, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.MissingBody("{\"displayName\": \"Engineering\"}");
        }

        var tenant = http.User.RequiredTenantId();
        var validator = new Validator();
        if (request.DisplayName is not null)
        {
            validator.Require("displayName", request.DisplayName, maxLength: 128);
        }

        var frequency = ValidateFrequency(request, validator);
        var setting = await db.UserSettings.FirstOrDefaultAsync(s => s.Id == id && s.TenantId == tenant, cancellationToken);
        DisasterRecoverySettings.Validate(request, setting, configuration, validator);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        if (setting is null)
        {
            return Problems.NotFound("user setting", id);
        }

        if (request?.DisplayName?.Trim() is { } name && name != setting.DisplayName
            && await db.UserSettings.AnyAsync(s => s.TenantId == tenant && s.DisplayName == name, cancellationToken))
        {
            return Problems.Conflict("user-setting-exists", $"A user setting named '{name}' exists already; choose another name.");
        }

        setting.DisplayName = request?.DisplayName?.Trim() ?? setting.DisplayName;
        setting.LocalAdminEnabled = request?.LocalAdminEnabled ?? setting.LocalAdminEnabled;
        setting.ResetEnabled = request?.ResetEnabled ?? setting.ResetEnabled;
        var frequencyChanged = frequency is { } changed && changed != setting.RestorePointFrequency;
        setting.RestorePointFrequency = frequency ?? setting.RestorePointFrequency;
        setting.UserRestoreEnabled = request?.RestorePointSetting?.UserRestoreEnabled ?? setting.UserRestoreEnabled;
        DisasterRecoverySettings.Apply(request!, setting);
        if (await DisasterRecoverySettings.SameRegionAsPolicyAsync(db, tenant, setting, cancellationToken) is { } sameRegion)
        {
            return Problems.Validation("crossRegionDisasterRecoverySetting.disasterRecoveryNetworkSetting.regionName", sameRegion);
        }

        setting.LastModifiedAt = clock.GetUtcNow();
        db.Audit(clock, tenant, AuditActor.From(http), "userSetting", "Update", $"Changed user setting {setting.DisplayName}", true,
            new AuditResource(setting.Id.ToString(), "userSetting", setting.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        if (frequencyChanged)
        {
            await RescheduleRestorePointsAsync(db, tenant, cancellationToken);
        }

        await DisasterRecoverySettings.PublishCopyPoliciesAsync(db, lifecycle, tenant, users: null, cancellationToken);

        return TypedResults.Ok(UserSettingView.From(setting, await db.UserSettingAssignments.AsNoTracking().Where(a => a.UserSettingId == id).ToListAsync(cancellationToken)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var setting = await db.UserSettings.FirstOrDefaultAsync(s => s.Id == id && s.TenantId == tenant, cancellationToken);
        if (setting is null)
        {
            return Problems.NotFound("user setting", id);
        }

        db.UserSettingAssignments.RemoveRange(await db.UserSettingAssignments.Where(a => a.UserSettingId == id).ToListAsync(cancellationToken));
        db.UserSettings.Remove(setting);
        db.Audit(clock, tenant, AuditActor.From(http), "userSetting", "Delete", $"Deleted user setting {setting.DisplayName}", true,
            new AuditResource(setting.Id.ToString(), "userSetting", setting.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        await RescheduleRestorePointsAsync(db, tenant, cancellationToken);
        await DisasterRecoverySettings.PublishCopyPoliciesAsync(db, lifecycle, tenant, users: null, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserSettingView>, ValidationProblem, ProblemHttpResult>> AssignAsync(
        Guid id, AssignUserSettingRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var validator = new Validator().Check(request?.Assignments is not null, "assignments", "'assignments' is required: a list of {target:{groupId}, priority}, empty to unassign.");
        var items = request?.Assignments ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            validator.Check(items[i]?.Target?.GroupId is { } group && group != Guid.Empty, $"assignments[{i}].target.groupId", "'target.groupId' is required.");
            validator.Check(items[i]?.Priority is null or (>= 1 and <= 1000), $"assignments[{i}].priority", "'priority' must be 1 (highest) to 1000.");
        }

        validator.Check(items.Select(a => a?.Target?.GroupId).Distinct().Count() == items.Count, "assignments", "Each group may appear once.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var setting = await db.UserSettings.FirstOrDefaultAsync(s => s.Id == id && s.TenantId == tenant, cancellationToken);
        if (setting is null)
        {
            return Problems.NotFound("user setting", id);
        }

        var now = clock.GetUtcNow();
        db.UserSettingAssignments.RemoveRange(await db.UserSettingAssignments.Where(a => a.UserSettingId == id).ToListAsync(cancellationToken));
        var assignments = items.Select((a, i) => new UserSettingAssignment
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenant,
            UserSettingId = id,
            GroupId = a.Target!.GroupId!.Value,
            Priority = a.Priority ?? 100,
            AssignedAt = now.AddTicks(i),
        }).ToList();
        db.UserSettingAssignments.AddRange(assignments);
        db.Audit(clock, tenant, AuditActor.From(http), "userSetting", "Assign", $"Assigned user setting {setting.DisplayName} to {assignments.Count} group(s)", true,
            new AuditResource(setting.Id.ToString(), "userSetting", setting.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        await RescheduleRestorePointsAsync(db, tenant, cancellationToken);
        await DisasterRecoverySettings.PublishCopyPoliciesAsync(db, lifecycle, tenant, users: null, cancellationToken);
        return TypedResults.Ok(UserSettingView.From(setting, assignments));
    }

    /// <summary>
    /// A frequency that changes applies from the next scheduler pass, not after the slot already planned (which
    /// could be a day away): the tenant's Cloud PCs are given their slot again. Slots are aligned to the period,
    /// so a Cloud PC whose frequency did not change gets the same slot back.
    /// </summary>
    private static Task RescheduleRestorePointsAsync(ProvisioningDbContext db, Guid tenant, CancellationToken cancellationToken) =>
        db.CloudPcs.Where(p => p.TenantId == tenant && p.NextRestorePointAt != null)
            .ExecuteUpdateAsync(update => update.SetProperty(p => p.NextRestorePointAt, (DateTimeOffset?)null), cancellationToken);

    /// <summary>The setting that applies to a user: the assignment of one of their groups with the best priority, or none.</summary>
    public static Task<UserSetting?> EffectiveAsync(ProvisioningDbContext db, Guid tenantId, Guid userId, CancellationToken cancellationToken) =>
        EffectiveQuery(db, tenantId, userId).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The query of EffectiveAsync, for the callers that cannot wait (the state machine's transitions).</summary>
    public static IQueryable<UserSetting> EffectiveQuery(ProvisioningDbContext db, Guid tenantId, Guid userId)
    {
        ArgumentNullException.ThrowIfNull(db);
        var groups = db.Memberships.Where(m => m.TenantId == tenantId && m.UserId == userId && m.Present).Select(m => m.GroupId);
        var best = db.UserSettingAssignments
            .Where(a => a.TenantId == tenantId && groups.Contains(a.GroupId))
            .OrderBy(a => a.Priority).ThenBy(a => a.AssignedAt)
            .Select(a => a.UserSettingId).Take(1);
        return db.UserSettings.AsNoTracking().Where(s => best.Contains(s.Id));
    }

    private static RestorePointFrequency? ValidateFrequency(UserSettingRequest? request, Validator validator)
    {
        var name = request?.RestorePointSetting?.FrequencyType;
        if (name is null)
        {
            return null;
        }

        validator.Check(Frequencies.ContainsKey(name), "restorePointSetting.frequencyType",
            $"'restorePointSetting.frequencyType' must be one of {string.Join(", ", Frequencies.Keys)}.");
        return Frequencies.GetValueOrDefault(name);
    }
}
