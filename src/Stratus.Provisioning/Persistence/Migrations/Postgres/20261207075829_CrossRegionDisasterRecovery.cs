using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Provisioning.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CrossRegionDisasterRecovery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BackupRegionName",
                schema: "provisioning",
                table: "user_settings",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryType",
                schema: "provisioning",
                table: "user_settings",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "NotConfigured");

            migrationBuilder.AddColumn<int>(
                name: "DiskCopyFrequencyInMinutes",
                schema: "provisioning",
                table: "user_settings",
                type: "integer",
                nullable: false,
                defaultValue: 5);

            migrationBuilder.AddColumn<bool>(
                name: "MaintainCrossRegionRestorePointEnabled",
                schema: "provisioning",
                table: "user_settings",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "UserInitiatedDisasterRecoveryAllowed",
                schema: "provisioning",
                table: "user_settings",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "BackupRegionName",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DisasterRecoveryChangedAt",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryChangedBy",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "DisasterRecoveryCopyOperationId",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryRegionName",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisasterRecoveryState",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "None");

            migrationBuilder.AddColumn<string>(
                name: "DiskCopyWarning",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DiskCopyWarningRegion",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DiskCopyWarningSince",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PendingHostId",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingHostName",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "character varying(128)",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PendingVmId",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PrimaryVmId",
                schema: "provisioning",
                table: "cloud_pcs",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_cloud_pcs_PendingVmId",
                schema: "provisioning",
                table: "cloud_pcs",
                column: "PendingVmId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_cloud_pcs_PendingVmId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "BackupRegionName",
                schema: "provisioning",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryType",
                schema: "provisioning",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "DiskCopyFrequencyInMinutes",
                schema: "provisioning",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "MaintainCrossRegionRestorePointEnabled",
                schema: "provisioning",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "UserInitiatedDisasterRecoveryAllowed",
                schema: "provisioning",
                table: "user_settings");

            migrationBuilder.DropColumn(
                name: "BackupRegionName",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryChangedAt",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryChangedBy",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryCopyOperationId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryRegionName",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DisasterRecoveryState",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DiskCopyWarning",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DiskCopyWarningRegion",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "DiskCopyWarningSince",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PendingHostId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PendingHostName",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PendingVmId",
                schema: "provisioning",
                table: "cloud_pcs");

            migrationBuilder.DropColumn(
                name: "PrimaryVmId",
                schema: "provisioning",
                table: "cloud_pcs");
        }
    }
}
