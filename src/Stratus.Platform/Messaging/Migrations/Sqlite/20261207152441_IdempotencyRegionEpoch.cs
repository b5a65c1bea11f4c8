using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Platform.Messaging.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class IdempotencyRegionEpoch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "RegionEpoch",
                table: "idempotency_records",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "RegionEpoch",
                table: "idempotency_records");
        }
    }
}
