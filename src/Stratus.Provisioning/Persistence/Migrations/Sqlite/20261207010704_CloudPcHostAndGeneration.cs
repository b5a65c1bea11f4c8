using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CloudPcHostAndGeneration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "HostId",
                table: "cloud_pcs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LastVmGeneration",
                table: "cloud_pcs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "StepAfterGeneration",
                table: "cloud_pcs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HostId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "LastVmGeneration",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "StepAfterGeneration",
                table: "cloud_pcs");
        }
    }
}
