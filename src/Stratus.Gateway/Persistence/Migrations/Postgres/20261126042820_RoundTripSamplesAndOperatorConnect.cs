using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Gateway.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RoundTripSamplesAndOperatorConnect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CloudPcUserPrincipalName",
                schema: "gateway",
                table: "sessions",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "AsOperator",
                schema: "gateway",
                table: "connect_tokens",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "CloudPcName",
                schema: "gateway",
                table: "connect_tokens",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "CloudPcUserId",
                schema: "gateway",
                table: "connect_tokens",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<string>(
                name: "CloudPcUserPrincipalName",
                schema: "gateway",
                table: "connect_tokens",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SessionId",
                schema: "gateway",
                table: "connect_tokens",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.CreateTable(
                name: "round_trip_samples",
                schema: "gateway",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: false),
                    SentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Milliseconds = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_round_trip_samples", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_round_trip_samples_SessionId_SentAt",
                schema: "gateway",
                table: "round_trip_samples",
                columns: new[] { "SessionId", "SentAt" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "round_trip_samples",
                schema: "gateway");

            migrationBuilder.DropColumn(
                name: "CloudPcUserPrincipalName",
                schema: "gateway",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "AsOperator",
                schema: "gateway",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "CloudPcName",
                schema: "gateway",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "CloudPcUserId",
                schema: "gateway",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "CloudPcUserPrincipalName",
                schema: "gateway",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "SessionId",
                schema: "gateway",
                table: "connect_tokens");
        }
    }
}
