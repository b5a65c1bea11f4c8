using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Gateway.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ConnectTicketRelayToken : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SealedRelayToken",
                schema: "gateway",
                table: "connect_tokens",
                type: "character varying(4096)",
                maxLength: 4096,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SealedRelayToken",
                schema: "gateway",
                table: "connect_tokens");
        }
    }
}
