using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Diagnostics.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class TroubleshootResults : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "troubleshoot_results",
                schema: "diagnostics",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "uuid", nullable: false),
                    StartDateTime = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    EndDateTime = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    OverallStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    ChecksJson = table.Column<string>(type: "text", nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_troubleshoot_results", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_troubleshoot_results_StartDateTime",
                schema: "diagnostics",
                table: "troubleshoot_results",
                column: "StartDateTime");

            migrationBuilder.CreateIndex(
                name: "IX_troubleshoot_results_TenantId_CloudPcId_StartDateTime",
                schema: "diagnostics",
                table: "troubleshoot_results",
                columns: new[] { "TenantId", "CloudPcId", "StartDateTime" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "troubleshoot_results",
                schema: "diagnostics");
        }
    }
}
