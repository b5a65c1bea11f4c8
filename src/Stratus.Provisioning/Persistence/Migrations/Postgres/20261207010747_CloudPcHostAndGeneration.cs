using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CloudPcHostAndGeneration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "HostId",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LastVmGeneration",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "StepAfterGeneration",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HostId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "LastVmGeneration",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "StepAfterGeneration",
                schema: "provisioning",
                table: "cloud_pcs");
        }
    }
}
