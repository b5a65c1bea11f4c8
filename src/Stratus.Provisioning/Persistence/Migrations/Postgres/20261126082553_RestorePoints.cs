using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RestorePoints : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextRestorePointAt",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RestorePointId",
                schema: "provisioning",
                table: "cloud_pc_operations",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "restore_points",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "uuid", nullable: false),
                    VmId = table.Column<Guid>(type: "uuid", nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Retention = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ScheduledFor = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastRestoredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DeleteOperationId = table.Column<Guid>(type: "uuid", nullable: true),
                    ExportedTo = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    FailureReason = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    Version = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_restore_points", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_Status_NextRestorePointAt",
                schema: "provisioning",
                table: "cloud_pcs",
                columns: new[] { "Status", "NextRestorePointAt" });

            migrationBuilder.CreateIndex(
                name: "IX_restore_points_CloudPcId_ScheduledFor",
                schema: "provisioning",
                table: "restore_points",
                columns: new[] { "CloudPcId", "ScheduledFor" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_restore_points_DeleteOperationId",
                schema: "provisioning",
                table: "restore_points",
                column: "DeleteOperationId");

            migrationBuilder.CreateIndex(
                name: "IX_restore_points_Status_ExpiresAt",
                schema: "provisioning",
                table: "restore_points",
                columns: new[] { "Status", "ExpiresAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "restore_points",
                schema: "provisioning");

            migrationBuilder.DropIndex(
                name: "IX_cloud_pcs_Status_NextRestorePointAt",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "NextRestorePointAt",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "RestorePointId",
                schema: "provisioning",
                table: "cloud_pc_operations");
        }
    }
}
