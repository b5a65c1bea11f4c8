using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class NetworkConnections : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "NetworkChangeDeadline",
                table: "vms",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkChangeFrom",
                table: "vms",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkChangeOperationId",
                table: "vms",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkConnectionId",
                table: "vms",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ReportedNetworkConnectionId",
                table: "vms",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Interfaces",
                table: "hosts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "host_network_checks",
                columns: table => new
                {
                    HostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CheckedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_host_network_checks", x => new { x.HostId, x.ConnectionId });
                });

            migrationBuilder.CreateTable(
                name: "network_addresses",
                columns: table => new
                {
                    ConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: true),
                    HostId = table.Column<Guid>(type: "TEXT", nullable: true),
                    AllocatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_network_addresses", x => new { x.ConnectionId, x.Address });
                });

            migrationBuilder.CreateTable(
                name: "network_connections",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Region = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Version = table.Column<long>(type: "INTEGER", nullable: false),
                    Subnet = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Gateway = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Mtu = table.Column<int>(type: "INTEGER", nullable: false),
                    UplinkKind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    UplinkInterface = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    VlanId = table.Column<int>(type: "INTEGER", nullable: true),
                    VxlanId = table.Column<int>(type: "INTEGER", nullable: true),
                    VxlanRemote = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    VxlanPort = table.Column<int>(type: "INTEGER", nullable: true),
                    DnsServers = table.Column<string>(type: "TEXT", nullable: false),
                    DnsSearchDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    DnsNamesToResolve = table.Column<string>(type: "TEXT", nullable: false),
                    RequiredEndpoints = table.Column<string>(type: "TEXT", nullable: false),
                    CheckRunId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Deleted = table.Column<bool>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_network_connections", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_network_addresses_HostId",
                table: "network_addresses",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_network_addresses_VmId",
                table: "network_addresses",
                column: "VmId");

            migrationBuilder.CreateIndex(
                name: "IX_network_connections_Region_Deleted",
                table: "network_connections",
                columns: new[] { "Region", "Deleted" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "host_network_checks");

            migrationBuilder.DropTable(
                name: "network_addresses");

            migrationBuilder.DropTable(
                name: "network_connections");

            migrationBuilder.DropColumn(
                name: "NetworkChangeDeadline",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "NetworkChangeFrom",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "NetworkChangeOperationId",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "NetworkConnectionId",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "ReportedNetworkConnectionId",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "Interfaces",
                table: "hosts");
        }
    }
}
