using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Network.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "network");

            migrationBuilder.CreateTable(
                name: "connections",
                schema: "network",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Region = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Subnet = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Gateway = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Mtu = table.Column<int>(type: "integer", nullable: false),
                    UplinkKind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    UplinkInterface = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    VlanId = table.Column<int>(type: "integer", nullable: true),
                    VxlanId = table.Column<int>(type: "integer", nullable: true),
                    VxlanRemote = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    VxlanPort = table.Column<int>(type: "integer", nullable: true),
                    DnsServers = table.Column<List<string>>(type: "text[]", nullable: false),
                    DnsSearchDomain = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: true),
                    DnsNamesToResolve = table.Column<List<string>>(type: "text[]", nullable: false),
                    RequiredEndpoints = table.Column<List<string>>(type: "text[]", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false),
                    HealthCheckStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    HealthCheckDetail = table.Column<string>(type: "text", nullable: true),
                    LastRunRequestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastCheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastCompletedStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastModifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_connections", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "health_check_runs",
                schema: "network",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    ConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    RequestedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Deadline = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    HostReports = table.Column<string>(type: "text", nullable: false),
                    Detail = table.Column<string>(type: "text", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    EndedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_health_check_runs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "network",
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
                name: "processed_messages",
                schema: "network",
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
                name: "IX_connections_LastRunRequestedAt",
                schema: "network",
                table: "connections",
                column: "LastRunRequestedAt");

            migrationBuilder.CreateIndex(
                name: "IX_connections_TenantId_CreatedAt",
                schema: "network",
                table: "connections",
                columns: new[] { "TenantId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_health_check_runs_ConnectionId_RequestedAt",
                schema: "network",
                table: "health_check_runs",
                columns: new[] { "ConnectionId", "RequestedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_health_check_runs_RequestedAt",
                schema: "network",
                table: "health_check_runs",
                column: "RequestedAt");

            migrationBuilder.CreateIndex(
                name: "IX_health_check_runs_Status_Deadline",
                schema: "network",
                table: "health_check_runs",
                columns: new[] { "Status", "Deadline" });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_DispatchedAt_CreatedAt",
                schema: "network",
                table: "outbox_messages",
                columns: new[] { "DispatchedAt", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "connections",
                schema: "network");

            migrationBuilder.DropTable(
                name: "health_check_runs",
                schema: "network");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "network");

            migrationBuilder.DropTable(
                name: "processed_messages",
                schema: "network");
        }
    }
}
