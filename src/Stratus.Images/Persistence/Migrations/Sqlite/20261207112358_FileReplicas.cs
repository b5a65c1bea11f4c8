using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Images.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FileReplicas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "file_replicas",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    SourceRegion = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    TargetRegion = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Set = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Path = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    ImageId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    TenantId = table.Column<Guid>(type: "TEXT", nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    SourceModifiedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    DetectedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ReplicatedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    VerifiedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    NextAttemptAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_file_replicas", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_file_replicas_SourceRegion_TargetRegion_Set_Path",
                table: "file_replicas",
                columns: new[] { "SourceRegion", "TargetRegion", "Set", "Path" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_file_replicas_State_SourceModifiedAt",
                table: "file_replicas",
                columns: new[] { "State", "SourceModifiedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_file_replicas_TenantId_ImageId",
                table: "file_replicas",
                columns: new[] { "TenantId", "ImageId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "file_replicas");
        }
    }
}
