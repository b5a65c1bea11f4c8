using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RestorePoints : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "NextRestorePointAt",
                table: "cloud_pcs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RestorePointId",
                table: "cloud_pc_operations",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "restore_points",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "TEXT", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Retention = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ScheduledFor = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastRestoredAt = table.Column<long>(type: "INTEGER", nullable: true),
                    DeleteOperationId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ExportedTo = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    FailureReason = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    Version = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_restore_points", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_Status_NextRestorePointAt",
                table: "cloud_pcs",
                columns: new[] { "Status", "NextRestorePointAt" });

            migrationBuilder.CreateIndex(
                name: "IX_restore_points_CloudPcId_ScheduledFor",
                table: "restore_points",
                columns: new[] { "CloudPcId", "ScheduledFor" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_restore_points_DeleteOperationId",
                table: "restore_points",
                column: "DeleteOperationId");

            migrationBuilder.CreateIndex(
                name: "IX_restore_points_Status_ExpiresAt",
                table: "restore_points",
                columns: new[] { "Status", "ExpiresAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "restore_points");

            migrationBuilder.DropIndex(
                name: "IX_cloud_pcs_Status_NextRestorePointAt",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "NextRestorePointAt",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "RestorePointId",
                table: "cloud_pc_operations");
        }
    }
}
