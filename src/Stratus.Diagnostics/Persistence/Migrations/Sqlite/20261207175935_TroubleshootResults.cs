using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Diagnostics.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class TroubleshootResults : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "troubleshoot_results",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CloudPcId = table.Column<Guid>(type: "TEXT", nullable: false),
                    StartDateTime = table.Column<long>(type: "INTEGER", nullable: false),
                    EndDateTime = table.Column<long>(type: "INTEGER", nullable: false),
                    OverallStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ChecksJson = table.Column<string>(type: "TEXT", nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_troubleshoot_results", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_troubleshoot_results_StartDateTime",
                table: "troubleshoot_results",
                column: "StartDateTime");

            migrationBuilder.CreateIndex(
                name: "IX_troubleshoot_results_TenantId_CloudPcId_StartDateTime",
                table: "troubleshoot_results",
                columns: new[] { "TenantId", "CloudPcId", "StartDateTime" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "troubleshoot_results");
        }
    }
}
