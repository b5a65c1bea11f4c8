using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class NetworkConnections : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IpAddress",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkConnectionId",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "NetworkConnectionName",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "network_moves",
                schema: "provisioning",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    FromConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    CloudPcIds = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    Done = table.Column<int>(type: "integer", nullable: false),
                    CurrentOperationId = table.Column<Guid>(type: "uuid", nullable: true),
                    CurrentTargetId = table.Column<Guid>(type: "uuid", nullable: true),
                    CurrentTargetName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    CurrentStartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Reason = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Version = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_network_moves", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_TenantId_NetworkConnectionId",
                schema: "provisioning",
                table: "cloud_pcs",
                columns: new[] { "TenantId", "NetworkConnectionId" });

            migrationBuilder.CreateIndex(
                name: "IX_network_moves_CurrentOperationId",
                schema: "provisioning",
                table: "network_moves",
                column: "CurrentOperationId");

            migrationBuilder.CreateIndex(
                name: "IX_network_moves_TenantId_FromConnectionId",
                schema: "provisioning",
                table: "network_moves",
                columns: new[] { "TenantId", "FromConnectionId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "network_moves",
                schema: "provisioning");

            migrationBuilder.DropIndex(
                name: "IX_cloud_pcs_TenantId_NetworkConnectionId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "IpAddress",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "NetworkConnectionId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "NetworkConnectionName",
                schema: "provisioning",
                table: "cloud_pcs");
        }
    }
}
