using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "cloud_pc_operations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Detail = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    IdempotencyKey = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CompletedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cloud_pc_operations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "cloud_pcs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserPrincipalName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    ManagedDeviceName = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ProvisioningPolicyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProvisioningPolicyName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    ServicePlanId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ServicePlanName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    VCpuCount = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    DiskGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ImageDisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    RegionName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    StatusDetailCode = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    StatusDetailMessage = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    StatusDetailRetryable = table.Column<bool>(type: "INTEGER", nullable: true),
                    PowerState = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    GracePeriodEnd = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastModifiedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    HostName = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    VmDetail = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    Step = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StepToken = table.Column<Guid>(type: "TEXT", nullable: false),
                    Attempt = table.Column<int>(type: "INTEGER", nullable: false),
                    ActiveOperationId = table.Column<Guid>(type: "TEXT", nullable: true),
                    TargetServicePlanId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Version = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cloud_pcs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "directory_licenses",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ServicePlanId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Present = table.Column<bool>(type: "INTEGER", nullable: false),
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_licenses", x => new { x.UserId, x.ServicePlanId });
                });

            migrationBuilder.CreateTable(
                name: "directory_memberships",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    GroupId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Present = table.Column<bool>(type: "INTEGER", nullable: false),
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_memberships", x => new { x.UserId, x.GroupId });
                });

            migrationBuilder.CreateTable(
                name: "directory_users",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserPrincipalName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Deleted = table.Column<bool>(type: "INTEGER", nullable: false),
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_users", x => x.UserId);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    MessageType = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Body = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DeliverAt = table.Column<long>(type: "INTEGER", nullable: true),
                    DispatchedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "plans",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    VCpuCount = table.Column<int>(type: "INTEGER", nullable: false),
                    RamInGB = table.Column<int>(type: "INTEGER", nullable: false),
                    StorageInGB = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_plans", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "policies",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ImageType = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ImageDisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    RegionNames = table.Column<string>(type: "TEXT", nullable: false),
                    NetworkConnectionIds = table.Column<string>(type: "TEXT", nullable: false),
                    CloudPcNamingTemplate = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    LocalAdminEnabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    GracePeriodInHours = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastModifiedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_policies", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "policy_assignments",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PolicyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    GroupId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ServicePlanId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AssignedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_policy_assignments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "processed_messages",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Consumer = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ProcessedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_processed_messages", x => new { x.Consumer, x.MessageId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pc_operations_CloudPcId",
                table: "cloud_pc_operations",
                column: "CloudPcId");

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pc_operations_TenantId_IdempotencyKey",
                table: "cloud_pc_operations",
                columns: new[] { "TenantId", "IdempotencyKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_TenantId_Status",
                table: "cloud_pcs",
                columns: new[] { "TenantId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_UserId_ServicePlanId",
                table: "cloud_pcs",
                columns: new[] { "UserId", "ServicePlanId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_VmId",
                table: "cloud_pcs",
                column: "VmId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_directory_licenses_TenantId",
                table: "directory_licenses",
                column: "TenantId");

            migrationBuilder.CreateIndex(
                name: "IX_directory_memberships_TenantId_GroupId",
                table: "directory_memberships",
                columns: new[] { "TenantId", "GroupId" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_TenantId",
                table: "directory_users",
                column: "TenantId");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_DispatchedAt_CreatedAt",
                table: "outbox_messages",
                columns: new[] { "DispatchedAt", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_policies_TenantId_DisplayName",
                table: "policies",
                columns: new[] { "TenantId", "DisplayName" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_policy_assignments_PolicyId_GroupId_ServicePlanId",
                table: "policy_assignments",
                columns: new[] { "PolicyId", "GroupId", "ServicePlanId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_policy_assignments_TenantId",
                table: "policy_assignments",
                column: "TenantId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cloud_pc_operations");

            migrationBuilder.DropTable(
                name: "cloud_pcs");

            migrationBuilder.DropTable(
                name: "directory_licenses");

            migrationBuilder.DropTable(
                name: "directory_memberships");

            migrationBuilder.DropTable(
                name: "directory_users");

            migrationBuilder.DropTable(
                name: "outbox_messages");

            migrationBuilder.DropTable(
                name: "plans");

            migrationBuilder.DropTable(
                name: "policies");

            migrationBuilder.DropTable(
                name: "policy_assignments");

            migrationBuilder.DropTable(
                name: "processed_messages");
        }
    }
}
