using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Gateway.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RoundTripSamplesAndOperatorConnect : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CloudPcUserPrincipalName",
                table: "sessions",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "AsOperator",
                table: "connect_tokens",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "CloudPcName",
                table: "connect_tokens",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "CloudPcUserId",
                table: "connect_tokens",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<string>(
                name: "CloudPcUserPrincipalName",
                table: "connect_tokens",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SessionId",
                table: "connect_tokens",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.CreateTable(
                name: "round_trip_samples",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SessionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SentAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Milliseconds = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_round_trip_samples", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_round_trip_samples_SessionId_SentAt",
                table: "round_trip_samples",
                columns: new[] { "SessionId", "SentAt" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "round_trip_samples");

            migrationBuilder.DropColumn(
                name: "CloudPcUserPrincipalName",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "AsOperator",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "CloudPcName",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "CloudPcUserId",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "CloudPcUserPrincipalName",
                table: "connect_tokens");

            migrationBuilder.DropColumn(
                name: "SessionId",
                table: "connect_tokens");
        }
    }
}
