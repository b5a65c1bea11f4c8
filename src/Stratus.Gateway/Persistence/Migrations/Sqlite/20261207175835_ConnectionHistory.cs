using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Gateway.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ConnectionHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EndedBy",
                table: "sessions",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GatewayInstance",
                table: "sessions",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GatewayZone",
                table: "sessions",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "connection_refusals",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Detail = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    GatewayInstance = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    GatewayZone = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_connection_refusals", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_sessions_TenantId_StartedAt",
                table: "sessions",
                columns: new[] { "TenantId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_connection_refusals_At",
                table: "connection_refusals",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_connection_refusals_TenantId_CloudPcId_At",
                table: "connection_refusals",
                columns: new[] { "TenantId", "CloudPcId", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "connection_refusals");

            migrationBuilder.DropIndex(
                name: "IX_sessions_TenantId_StartedAt",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "EndedBy",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "GatewayInstance",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "GatewayZone",
                table: "sessions");
        }
    }
}
