using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DiskCopiesAndHostLoss : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "CopiesOff",
                table: "vms",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "CopyBackupRegion",
                table: "vms",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CopyIntervalMinutes",
                table: "vms",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "Epoch",
                table: "vms",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "MovedAt",
                table: "vms",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RecoveryFailure",
                table: "vms",
                type: "TEXT",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RestoreFromRegion",
                table: "vms",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RestoreFromVmId",
                table: "vms",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "moved_vms",
                columns: table => new
                {
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    FromHostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ToHostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    MovedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ConfirmedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_moved_vms", x => new { x.VmId, x.FromHostId });
                });

            migrationBuilder.CreateTable(
                name: "vm_disk_copies",
                columns: table => new
                {
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    StoreUri = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    Region = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    LatestCopyAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LatestBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    DiskBytes = table.Column<long>(type: "INTEGER", nullable: true),
                    ChainLength = table.Column<int>(type: "INTEGER", nullable: false),
                    LastAttemptAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StatusReason = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vm_disk_copies", x => new { x.VmId, x.StoreUri });
                });

            migrationBuilder.CreateIndex(
                name: "IX_moved_vms_FromHostId_ConfirmedAt",
                table: "moved_vms",
                columns: new[] { "FromHostId", "ConfirmedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "moved_vms");

            migrationBuilder.DropTable(
                name: "vm_disk_copies");

            migrationBuilder.DropColumn(
                name: "CopiesOff",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "CopyBackupRegion",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "CopyIntervalMinutes",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "Epoch",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "MovedAt",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "RecoveryFailure",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "RestoreFromRegion",
                table: "vms");

            migrationBuilder.DropColumn(
                name: "RestoreFromVmId",
                table: "vms");
        }
    }
}
