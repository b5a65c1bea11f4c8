using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Network.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "connections",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Region = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Subnet = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Gateway = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Mtu = table.Column<int>(type: "INTEGER", nullable: false),
                    UplinkKind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    UplinkInterface = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    VlanId = table.Column<int>(type: "INTEGER", nullable: true),
                    VxlanId = table.Column<int>(type: "INTEGER", nullable: true),
                    VxlanRemote = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    VxlanPort = table.Column<int>(type: "INTEGER", nullable: true),
                    DnsServers = table.Column<string>(type: "TEXT", nullable: false),
                    DnsSearchDomain = table.Column<string>(type: "TEXT", maxLength: 253, nullable: true),
                    DnsNamesToResolve = table.Column<string>(type: "TEXT", nullable: false),
                    RequiredEndpoints = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<long>(type: "INTEGER", nullable: false),
                    HealthCheckStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    HealthCheckDetail = table.Column<string>(type: "TEXT", nullable: true),
                    LastRunRequestedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastCheckedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastCompletedStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastModifiedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ConcurrencyStamp = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_connections", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "health_check_runs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    RequestedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Deadline = table.Column<long>(type: "INTEGER", nullable: false),
                    HostReports = table.Column<string>(type: "TEXT", nullable: false),
                    Detail = table.Column<string>(type: "TEXT", nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    EndedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ConcurrencyStamp = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_health_check_runs", x => x.Id);
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
                name: "IX_connections_LastRunRequestedAt",
                table: "connections",
                column: "LastRunRequestedAt");

            migrationBuilder.CreateIndex(
                name: "IX_connections_TenantId_CreatedAt",
                table: "connections",
                columns: new[] { "TenantId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_health_check_runs_ConnectionId_RequestedAt",
                table: "health_check_runs",
                columns: new[] { "ConnectionId", "RequestedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_health_check_runs_RequestedAt",
                table: "health_check_runs",
                column: "RequestedAt");

            migrationBuilder.CreateIndex(
                name: "IX_health_check_runs_Status_Deadline",
                table: "health_check_runs",
                columns: new[] { "Status", "Deadline" });

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_DispatchedAt_CreatedAt",
                table: "outbox_messages",
                columns: new[] { "DispatchedAt", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "connections");

            migrationBuilder.DropTable(
                name: "health_check_runs");

            migrationBuilder.DropTable(
                name: "outbox_messages");

            migrationBuilder.DropTable(
                name: "processed_messages");
        }
    }
}
