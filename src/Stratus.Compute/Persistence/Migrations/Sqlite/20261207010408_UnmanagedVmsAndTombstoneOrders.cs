using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UnmanagedVmsAndTombstoneOrders : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ConfirmedAt",
                table: "deleted_vms",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "HostId",
                table: "deleted_vms",
                type: "TEXT",
                nullable: true);

            // Every tombstone so far was written once its VM was gone: confirmed, and pruned after the retention.
            migrationBuilder.Sql("""UPDATE deleted_vms SET "ConfirmedAt" = "DeletedAt";""");

            migrationBuilder.CreateTable(
                name: "unmanaged_vms",
                columns: table => new
                {
                    HostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    VCpuCount = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<int>(type: "INTEGER", nullable: false),
                    DiskGiB = table.Column<int>(type: "INTEGER", nullable: false),
                    FirstReportedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_unmanaged_vms", x => new { x.HostId, x.VmId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_vm_operations_CompletedAt",
                table: "vm_operations",
                column: "CompletedAt");

            migrationBuilder.CreateIndex(
                name: "IX_deleted_vms_ConfirmedAt",
                table: "deleted_vms",
                column: "ConfirmedAt");

            migrationBuilder.CreateIndex(
                name: "IX_deleted_vms_HostId_ConfirmedAt",
                table: "deleted_vms",
                columns: new[] { "HostId", "ConfirmedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "unmanaged_vms");

            migrationBuilder.DropIndex(
                name: "IX_vm_operations_CompletedAt",
                table: "vm_operations");

            migrationBuilder.DropIndex(
                name: "IX_deleted_vms_ConfirmedAt",
                table: "deleted_vms");

            migrationBuilder.DropIndex(
                name: "IX_deleted_vms_HostId_ConfirmedAt",
                table: "deleted_vms");

            migrationBuilder.DropColumn(
                name: "ConfirmedAt",
                table: "deleted_vms");

            migrationBuilder.DropColumn(
                name: "HostId",
                table: "deleted_vms");
        }
    }
}
