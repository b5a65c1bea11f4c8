using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DiskCopiesAndHostLoss : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "CopiesOff",
                schema: "compute",
                table: "vms",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "CopyBackupRegion",
                schema: "compute",
                table: "vms",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CopyIntervalMinutes",
                schema: "compute",
                table: "vms",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "Epoch",
                schema: "compute",
                table: "vms",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "MovedAt",
                schema: "compute",
                table: "vms",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RecoveryFailure",
                schema: "compute",
                table: "vms",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RestoreFromRegion",
                schema: "compute",
                table: "vms",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RestoreFromVmId",
                schema: "compute",
                table: "vms",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "moved_vms",
                schema: "compute",
                columns: table => new
                {
                    VmId = table.Column<Guid>(type: "uuid", nullable: false),
                    FromHostId = table.Column<Guid>(type: "uuid", nullable: false),
                    ToHostId = table.Column<Guid>(type: "uuid", nullable: false),
                    MovedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ConfirmedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_moved_vms", x => new { x.VmId, x.FromHostId });
                });

            migrationBuilder.CreateTable(
                name: "vm_disk_copies",
                schema: "compute",
                columns: table => new
                {
                    VmId = table.Column<Guid>(type: "uuid", nullable: false),
                    StoreUri = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    Region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    LatestCopyAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LatestBytes = table.Column<long>(type: "bigint", nullable: true),
                    DiskBytes = table.Column<long>(type: "bigint", nullable: true),
                    ChainLength = table.Column<int>(type: "integer", nullable: false),
                    LastAttemptAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastError = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StatusReason = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vm_disk_copies", x => new { x.VmId, x.StoreUri });
                });

            migrationBuilder.CreateIndex(
                name: "IX_moved_vms_FromHostId_ConfirmedAt",
                schema: "compute",
                table: "moved_vms",
                columns: new[] { "FromHostId", "ConfirmedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "moved_vms",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "vm_disk_copies",
                schema: "compute");

            migrationBuilder.DropColumn(
                name: "CopiesOff",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "CopyBackupRegion",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "CopyIntervalMinutes",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "Epoch",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "MovedAt",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "RecoveryFailure",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "RestoreFromRegion",
                schema: "compute",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "RestoreFromVmId",
                schema: "compute",
                table: "vms");
        }
    }
}
