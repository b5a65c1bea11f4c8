using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CrossRegionDisasterRecovery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BackupRegionName",
                table: "user_settings",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryType",
                table: "user_settings",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "NotConfigured");

            migrationBuilder.AddColumn<int>(
                name: "DiskCopyFrequencyInMinutes",
                table: "user_settings",
                type: "INTEGER",
                nullable: false,
                defaultValue: 5);

            migrationBuilder.AddColumn<bool>(
                name: "MaintainCrossRegionRestorePointEnabled",
                table: "user_settings",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "UserInitiatedDisasterRecoveryAllowed",
                table: "user_settings",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "BackupRegionName",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "DisasterRecoveryChangedAt",
                table: "cloud_pcs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryChangedBy",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DisasterRecoveryCopyOperationId",
                table: "cloud_pcs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryRegionName",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryState",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "None");

            migrationBuilder.AddColumn<string>(
                name: "DiskCopyWarning",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DiskCopyWarningRegion",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "DiskCopyWarningSince",
                table: "cloud_pcs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PendingHostId",
                table: "cloud_pcs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingHostName",
                table: "cloud_pcs",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PendingVmId",
                table: "cloud_pcs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PrimaryVmId",
                table: "cloud_pcs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_PendingVmId",
                table: "cloud_pcs",
                column: "PendingVmId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_cloud_pcs_PendingVmId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "BackupRegionName",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryType",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "DiskCopyFrequencyInMinutes",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "MaintainCrossRegionRestorePointEnabled",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "UserInitiatedDisasterRecoveryAllowed",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "BackupRegionName",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryChangedAt",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryChangedBy",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryCopyOperationId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryRegionName",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryState",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DiskCopyWarning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DiskCopyWarningRegion",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DiskCopyWarningSince",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PendingHostId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PendingHostName",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PendingVmId",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PrimaryVmId",
                table: "cloud_pcs");
        }
    }
}
