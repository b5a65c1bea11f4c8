using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Identity.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LdapSync : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ldap_configurations",
                schema: "identity",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Url = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    BindDn = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    ProtectedBindPassword = table.Column<string>(type: "text", nullable: false),
                    BaseDns = table.Column<List<string>>(type: "text[]", nullable: false),
                    UserFilter = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: false),
                    GroupFilter = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: false),
                    UserNameAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    DisplayNameAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    GivenNameAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    SurnameAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    MailAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    GroupNameAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    MemberAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    ExternalIdAttribute = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    SyncInterval = table.Column<TimeSpan>(type: "interval", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ScheduleToken = table.Column<Guid>(type: "uuid", nullable: false),
                    NextSyncAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SyncLeaseUntil = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    SyncLeaseOwner = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ldap_configurations", x => x.TenantId);
                    table.ForeignKey(
                        name: "FK_ldap_configurations_tenants_TenantId",
                        column: x => x.TenantId,
                        principalSchema: "identity",
                        principalTable: "tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ldap_sync_status",
                schema: "identity",
                columns: table => new
                {
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    SyncId = table.Column<Guid>(type: "uuid", nullable: false),
                    Trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Succeeded = table.Column<bool>(type: "boolean", nullable: false),
                    Error = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Reason = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    UsersCreated = table.Column<int>(type: "integer", nullable: false),
                    UsersUpdated = table.Column<int>(type: "integer", nullable: false),
                    UsersDisabled = table.Column<int>(type: "integer", nullable: false),
                    GroupsCreated = table.Column<int>(type: "integer", nullable: false),
                    GroupsUpdated = table.Column<int>(type: "integer", nullable: false),
                    GroupsDeleted = table.Column<int>(type: "integer", nullable: false),
                    MembershipsAdded = table.Column<int>(type: "integer", nullable: false),
                    MembershipsRemoved = table.Column<int>(type: "integer", nullable: false),
                    Skipped = table.Column<int>(type: "integer", nullable: false),
                    Warnings = table.Column<List<string>>(type: "text[]", nullable: false),
                    LastSuccessAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ldap_sync_status", x => x.TenantId);
                    table.ForeignKey(
                        name: "FK_ldap_sync_status_tenants_TenantId",
                        column: x => x.TenantId,
                        principalSchema: "identity",
                        principalTable: "tenants",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ldap_configurations_NextSyncAt",
                schema: "identity",
                table: "ldap_configurations",
                column: "NextSyncAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ldap_configurations",
                schema: "identity");

            migrationBuilder.DropTable(
                name: "ldap_sync_status",
                schema: "identity");
        }
    }
}
