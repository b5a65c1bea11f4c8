using Stratus.Platform.Messaging;

namespace Stratus.Identity.Sync;

// The directory change events: what the provisioning service reacts to (the seed's "Entra ID
// notification service"). Each carries its tenant, a per-tenant gapless sequence number in commit order,
// and the time of the change. Consumers keep their own copies of these records.

[MessageName("identity.userCreated.v1")]
public sealed record UserCreated(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, string UserPrincipalName, bool AccountEnabled);

[MessageName("identity.userUpdated.v1")]
public sealed record UserUpdated(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, string UserPrincipalName, string DisplayName, bool AccountEnabled);

[MessageName("identity.userDisabled.v1")]
public sealed record UserDisabled(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId);

[MessageName("identity.userDeleted.v1")]
public sealed record UserDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId);

[MessageName("identity.groupMemberAdded.v1")]
public sealed record GroupMemberAdded(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid GroupId, Guid UserId);

[MessageName("identity.groupMemberRemoved.v1")]
public sealed record GroupMemberRemoved(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid GroupId, Guid UserId);

[MessageName("identity.groupDeleted.v1")]
public sealed record GroupDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid GroupId, IReadOnlyList<Guid> FormerMemberIds);

[MessageName("identity.licenseAssigned.v1")]
public sealed record LicenseAssigned(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, Guid SkuId);

[MessageName("identity.licenseRemoved.v1")]
public sealed record LicenseRemoved(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, Guid SkuId);

[MessageName("identity.subscriptionChanged.v1")]
public sealed record SubscriptionChanged(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid SkuId, int PrepaidUnits);

[MessageName("identity.tenantDeleted.v1")]
public sealed record TenantDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt);

[MessageName("identity.rolesChanged.v1")]
public sealed record RolesChanged(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, IReadOnlyList<string> Roles);
