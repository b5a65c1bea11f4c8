using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UserSettings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "user_setting_assignments",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserSettingId = table.Column<Guid>(type: "uuid", nullable: false),
                    GroupId = table.Column<Guid>(type: "uuid", nullable: false),
                    Priority = table.Column<int>(type: "integer", nullable: false),
                    AssignedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_user_setting_assignments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "user_settings",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    LocalAdminEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    ResetEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    RestorePointFrequency = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    UserRestoreEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastModifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_user_settings", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_user_setting_assignments_TenantId_GroupId",
                schema: "provisioning",
                table: "user_setting_assignments",
                columns: new[] { "TenantId", "GroupId" });

            migrationBuilder.CreateIndex(
                name: "IX_user_setting_assignments_UserSettingId_GroupId",
                schema: "provisioning",
                table: "user_setting_assignments",
                columns: new[] { "UserSettingId", "GroupId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_user_settings_TenantId_DisplayName",
                schema: "provisioning",
                table: "user_settings",
                columns: new[] { "TenantId", "DisplayName" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "user_setting_assignments",
                schema: "provisioning");

            migrationBuilder.DropTable(
                name: "user_settings",
                schema: "provisioning");
        }
    }
}
