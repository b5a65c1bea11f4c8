using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Platform.Messaging.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class IdempotencyRegionEpoch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "RegionEpoch",
                schema: "platform",
                table: "idempotency_records",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "RegionEpoch",
                schema: "platform",
                table: "idempotency_records");
        }
    }
}
