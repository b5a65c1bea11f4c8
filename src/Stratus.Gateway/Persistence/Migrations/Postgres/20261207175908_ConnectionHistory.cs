using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Gateway.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ConnectionHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EndedBy",
                schema: "gateway",
                table: "sessions",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GatewayInstance",
                schema: "gateway",
                table: "sessions",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "GatewayZone",
                schema: "gateway",
                table: "sessions",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "connection_refusals",
                schema: "gateway",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    UserName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Detail = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    GatewayInstance = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    GatewayZone = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_connection_refusals", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_sessions_TenantId_StartedAt",
                schema: "gateway",
                table: "sessions",
                columns: new[] { "TenantId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_connection_refusals_At",
                schema: "gateway",
                table: "connection_refusals",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_connection_refusals_TenantId_CloudPcId_At",
                schema: "gateway",
                table: "connection_refusals",
                columns: new[] { "TenantId", "CloudPcId", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "connection_refusals",
                schema: "gateway");

            migrationBuilder.DropIndex(
                name: "IX_sessions_TenantId_StartedAt",
                schema: "gateway",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "EndedBy",
                schema: "gateway",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "GatewayInstance",
                schema: "gateway",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "GatewayZone",
                schema: "gateway",
                table: "sessions");
        }
    }
}
