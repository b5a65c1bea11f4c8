using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class NetworkConnections : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IpAddress",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "NetworkConnectionId",
                table: "cloud_pcs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "NetworkConnectionName",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "network_moves",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    FromConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CloudPcIds = table.Column<string>(type: "TEXT", nullable: false),
                    Done = table.Column<int>(type: "INTEGER", nullable: false),
                    CurrentOperationId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CurrentTargetId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CurrentTargetName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CurrentStartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CompletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Version = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_network_moves", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_TenantId_NetworkConnectionId",
                table: "cloud_pcs",
                columns: new[] { "TenantId", "NetworkConnectionId" });

            migrationBuilder.CreateIndex(
                name: "IX_network_moves_CurrentOperationId",
                table: "network_moves",
                column: "CurrentOperationId");

            migrationBuilder.CreateIndex(
                name: "IX_network_moves_TenantId_FromConnectionId",
                table: "network_moves",
                columns: new[] { "TenantId", "FromConnectionId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "network_moves");

            migrationBuilder.DropIndex(
                name: "IX_cloud_pcs_TenantId_NetworkConnectionId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "IpAddress",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "NetworkConnectionId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "NetworkConnectionName",
                table: "cloud_pcs");
        }
    }
}
