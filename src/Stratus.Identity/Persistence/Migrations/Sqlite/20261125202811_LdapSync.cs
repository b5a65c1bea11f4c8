using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Identity.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LdapSync : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ldap_configurations",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Url = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    BindDn = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ProtectedBindPassword = table.Column<string>(type: "TEXT", nullable: false),
                    BaseDns = table.Column<string>(type: "TEXT", nullable: false),
                    UserFilter = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    GroupFilter = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    UserNameAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    DisplayNameAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    GivenNameAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    SurnameAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    MailAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    GroupNameAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    MemberAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ExternalIdAttribute = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    SyncInterval = table.Column<TimeSpan>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ScheduleToken = table.Column<Guid>(type: "TEXT", nullable: false),
                    NextSyncAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SyncLeaseUntil = table.Column<long>(type: "INTEGER", nullable: true),
                    SyncLeaseOwner = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ldap_configurations", x => x.TenantId);
                    table.ForeignKey(
                        name: "FK_ldap_configurations_tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ldap_sync_status",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SyncId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Succeeded = table.Column<bool>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    UsersCreated = table.Column<int>(type: "INTEGER", nullable: false),
                    UsersUpdated = table.Column<int>(type: "INTEGER", nullable: false),
                    UsersDisabled = table.Column<int>(type: "INTEGER", nullable: false),
                    GroupsCreated = table.Column<int>(type: "INTEGER", nullable: false),
                    GroupsUpdated = table.Column<int>(type: "INTEGER", nullable: false),
                    GroupsDeleted = table.Column<int>(type: "INTEGER", nullable: false),
                    MembershipsAdded = table.Column<int>(type: "INTEGER", nullable: false),
                    MembershipsRemoved = table.Column<int>(type: "INTEGER", nullable: false),
                    Skipped = table.Column<int>(type: "INTEGER", nullable: false),
                    Warnings = table.Column<string>(type: "TEXT", nullable: false),
                    LastSuccessAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ldap_sync_status", x => x.TenantId);
                    table.ForeignKey(
                        name: "FK_ldap_sync_status_tenants_TenantId",
                        column: x => x.TenantId,
                        principalTable: "tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ldap_configurations_NextSyncAt",
                table: "ldap_configurations",
                column: "NextSyncAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ldap_configurations");

            migrationBuilder.DropTable(
                name: "ldap_sync_status");
        }
    }
}
