using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Images.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class FileReplicas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "file_replicas",
                schema: "images",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    SourceRegion = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    TargetRegion = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Set = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    ImageId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: true),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    SourceModifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    DetectedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ReplicatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    VerifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    NextAttemptAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastError = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_file_replicas", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_file_replicas_SourceRegion_TargetRegion_Set_Path",
                schema: "images",
                table: "file_replicas",
                columns: new[] { "SourceRegion", "TargetRegion", "Set", "Path" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_file_replicas_State_SourceModifiedAt",
                schema: "images",
                table: "file_replicas",
                columns: new[] { "State", "SourceModifiedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_file_replicas_TenantId_ImageId",
                schema: "images",
                table: "file_replicas",
                columns: new[] { "TenantId", "ImageId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "file_replicas",
                schema: "images");
        }
    }
}
