using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "provisioning");

            migrationBuilder.CreateTable(
                name: "cloud_pc_operations",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "uuid", nullable: false),
                    Action = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Detail = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    IdempotencyKey = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cloud_pc_operations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "cloud_pcs",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserPrincipalName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ManagedDeviceName = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ProvisioningPolicyId = table.Column<Guid>(type: "uuid", nullable: false),
                    ProvisioningPolicyName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    ServicePlanId = table.Column<Guid>(type: "uuid", nullable: false),
                    ServicePlanName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    VCpuCount = table.Column<int>(type: "integer", nullable: false),
                    MemoryMiB = table.Column<int>(type: "integer", nullable: false),
                    DiskGiB = table.Column<int>(type: "integer", nullable: false),
                    ImageId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ImageDisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RegionName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    StatusDetailCode = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    StatusDetailMessage = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    StatusDetailRetryable = table.Column<bool>(type: "boolean", nullable: true),
                    PowerState = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    GracePeriodEnd = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastModifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    VmId = table.Column<Guid>(type: "uuid", nullable: false),
                    HostName = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    VmDetail = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    Step = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StepToken = table.Column<Guid>(type: "uuid", nullable: false),
                    Attempt = table.Column<int>(type: "integer", nullable: false),
                    ActiveOperationId = table.Column<Guid>(type: "uuid", nullable: true),
                    TargetServicePlanId = table.Column<Guid>(type: "uuid", nullable: true),
                    Version = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cloud_pcs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "directory_licenses",
                schema: "provisioning",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    ServicePlanId = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Present = table.Column<bool>(type: "boolean", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_licenses", x => new { x.UserId, x.ServicePlanId });
                });

            migrationBuilder.CreateTable(
                name: "directory_memberships",
                schema: "provisioning",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    GroupId = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Present = table.Column<bool>(type: "boolean", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_memberships", x => new { x.UserId, x.GroupId });
                });

            migrationBuilder.CreateTable(
                name: "directory_users",
                schema: "provisioning",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserPrincipalName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Deleted = table.Column<bool>(type: "boolean", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_directory_users", x => x.UserId);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    MessageType = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Body = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DeliverAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DispatchedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "plans",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    VCpuCount = table.Column<int>(type: "integer", nullable: false),
                    RamInGB = table.Column<int>(type: "integer", nullable: false),
                    StorageInGB = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_plans", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "policies",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Description = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    ImageId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ImageType = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ImageDisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RegionNames = table.Column<List<string>>(type: "text[]", nullable: false),
                    NetworkConnectionIds = table.Column<List<string>>(type: "text[]", nullable: false),
                    CloudPcNamingTemplate = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    LocalAdminEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    GracePeriodInHours = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastModifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_policies", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "policy_assignments",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    PolicyId = table.Column<Guid>(type: "uuid", nullable: false),
                    GroupId = table.Column<Guid>(type: "uuid", nullable: false),
                    ServicePlanId = table.Column<Guid>(type: "uuid", nullable: false),
                    AssignedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_policy_assignments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "processed_messages",
                schema: "provisioning",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    Consumer = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ProcessedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_processed_messages", x => new { x.Consumer, x.MessageId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pc_operations_CloudPcId",
                schema: "provisioning",
                table: "cloud_pc_operations",
                column: "CloudPcId");

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pc_operations_TenantId_IdempotencyKey",
                schema: "provisioning",
                table: "cloud_pc_operations",
                columns: new[] { "TenantId", "IdempotencyKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_TenantId_Status",
                schema: "provisioning",
                table: "cloud_pcs",
                columns: new[] { "TenantId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_UserId_ServicePlanId",
                schema: "provisioning",
                table: "cloud_pcs",
                columns: new[] { "UserId", "ServicePlanId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_VmId",
                schema: "provisioning",
                table: "cloud_pcs",
                column: "VmId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_directory_licenses_TenantId",
                schema: "provisioning",
                table: "directory_licenses",
                column: "TenantId");

            migrationBuilder.CreateIndex(
                name: "IX_directory_memberships_TenantId_GroupId",
                schema: "provisioning",
                table: "directory_memberships",
                columns: new[] { "TenantId", "GroupId" });

            migrationBuilder.CreateIndex(
                name: "IX_directory_users_TenantId",
                schema: "provisioning",
                table: "directory_users",
                column: "TenantId");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_DispatchedAt_CreatedAt",
                schema: "provisioning",
                table: "outbox_messages",
                columns: new[] { "DispatchedAt", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_policies_TenantId_DisplayName",
                schema: "provisioning",
                table: "policies",
                columns: new[] { "TenantId", "DisplayName" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_policy_assignments_PolicyId_GroupId_ServicePlanId",
                schema: "provisioning",
                table: "policy_assignments",
                columns: new[] { "PolicyId", "GroupId", "ServicePlanId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_policy_assignments_TenantId",
                schema: "provisioning",
                table: "policy_assignments",
                column: "TenantId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "cloud_pc_operations",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "cloud_pcs",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "directory_licenses",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "directory_memberships",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "directory_users",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "plans",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "policies",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "policy_assignments",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "processed_messages",
                schema: "provisioning");
        }
    }
}
