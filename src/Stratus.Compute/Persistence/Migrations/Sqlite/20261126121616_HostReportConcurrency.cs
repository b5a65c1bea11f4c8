using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class HostReportConcurrency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
