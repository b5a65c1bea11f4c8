using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class NetworkConnections : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NetworkChangeDeadline",
                schema: "compute",
                table: "vms",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkChangeFrom",
                schema: "compute",
                table: "vms",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkChangeOperationId",
                schema: "compute",
                table: "vms",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkConnectionId",
                schema: "compute",
                table: "vms",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ReportedNetworkConnectionId",
                schema: "compute",
                table: "vms",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<List<string>>(
                name: "Interfaces",
                schema: "compute",
                table: "hosts",
                type: "text[]",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "host_network_checks",
                schema: "compute",
                columns: table => new
                {
                    HostId = table.Column<Guid>(type: "uuid", nullable: false),
                    ConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    CheckedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_host_network_checks", x => new { x.HostId, x.ConnectionId });
                });

            migrationBuilder.CreateTable(
                name: "network_addresses",
                schema: "compute",
                columns: table => new
                {
                    ConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Address = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    VmId = table.Column<Guid>(type: "uuid", nullable: true),
                    HostId = table.Column<Guid>(type: "uuid", nullable: true),
                    AllocatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_network_addresses", x => new { x.ConnectionId, x.Address });
                });

            migrationBuilder.CreateTable(
                name: "network_connections",
                schema: "compute",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    Region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false),
                    Subnet = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Gateway = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Mtu = table.Column<int>(type: "integer", nullable: false),
                    UplinkKind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    UplinkInterface = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    VlanId = table.Column<int>(type: "integer", nullable: true),
                    VxlanId = table.Column<int>(type: "integer", nullable: true),
                    VxlanRemote = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    VxlanPort = table.Column<int>(type: "integer", nullable: true),
                    DnsServers = table.Column<List<string>>(type: "text[]", nullable: false),
                    DnsSearchDomain = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    DnsNamesToResolve = table.Column<List<string>>(type: "text[]", nullable: false),
                    RequiredEndpoints = table.Column<List<string>>(type: "text[]", nullable: false),
                    CheckRunId = table.Column<Guid>(type: "uuid", nullable: true),
                    Deleted = table.Column<bool>(type: "boolean", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_network_connections", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_network_addresses_HostId",
                schema: "compute",
                table: "network_addresses",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_network_addresses_VmId",
                schema: "compute",
                table: "network_addresses",
                column: "VmId");

            migrationBuilder.CreateIndex(
                name: "IX_network_connections_Region_Deleted",
                schema: "compute",
                table: "network_connections",
                columns: new[] { "Region", "Deleted" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "host_network_checks",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "network_addresses",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "network_connections",
                schema: "compute");

            migrationBuilder.DropColumn(
                name: "NetworkChangeDeadline",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "NetworkChangeFrom",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "NetworkChangeOperationId",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "NetworkConnectionId",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "ReportedNetworkConnectionId",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "Interfaces",
                schema: "compute",
                table: "hosts");
        }
    }
}
