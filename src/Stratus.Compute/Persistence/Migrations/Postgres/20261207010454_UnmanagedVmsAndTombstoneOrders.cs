using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UnmanagedVmsAndTombstoneOrders : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ConfirmedAt",
                schema: "compute",
                table: "deleted_vms",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "HostId",
                schema: "compute",
                table: "deleted_vms",
                type: "uuid",
                nullable: true);

            // Every tombstone so far was written once its VM was gone: confirmed, and pruned after the retention.
            migrationBuilder.Sql("""UPDATE compute.deleted_vms SET "ConfirmedAt" = "DeletedAt";""");

            migrationBuilder.CreateTable(
                name: "unmanaged_vms",
                schema: "compute",
                columns: table => new
                {
                    HostId = table.Column<Guid>(type: "uuid", nullable: false),
                    VmId = table.Column<Guid>(type: "uuid", nullable: false),
                    State = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ImageId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    VCpuCount = table.Column<int>(type: "integer", nullable: false),
                    MemoryMiB = table.Column<int>(type: "integer", nullable: false),
                    DiskGiB = table.Column<int>(type: "integer", nullable: false),
                    FirstReportedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_unmanaged_vms", x => new { x.HostId, x.VmId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_vm_operations_CompletedAt",
                schema: "compute",
                table: "vm_operations",
                column: "CompletedAt");

            migrationBuilder.CreateIndex(
                name: "IX_deleted_vms_ConfirmedAt",
                schema: "compute",
                table: "deleted_vms",
                column: "ConfirmedAt");

            migrationBuilder.CreateIndex(
                name: "IX_deleted_vms_HostId_ConfirmedAt",
                schema: "compute",
                table: "deleted_vms",
                columns: new[] { "HostId", "ConfirmedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "unmanaged_vms",
                schema: "compute");

            migrationBuilder.DropIndex(
                name: "IX_vm_operations_CompletedAt",
                schema: "compute",
                table: "vm_operations");

            migrationBuilder.DropIndex(
                name: "IX_deleted_vms_ConfirmedAt",
                schema: "compute",
                table: "deleted_vms");

            migrationBuilder.DropIndex(
                name: "IX_deleted_vms_HostId_ConfirmedAt",
                schema: "compute",
                table: "deleted_vms");

            migrationBuilder.DropColumn(
                name: "ConfirmedAt",
                schema: "compute",
                table: "deleted_vms");

            migrationBuilder.DropColumn(
                name: "HostId",
                schema: "compute",
                table: "deleted_vms");
        }
    }
}
