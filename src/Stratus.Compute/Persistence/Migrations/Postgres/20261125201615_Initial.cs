using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Stratus.Compute.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.EnsureSchema(
                name: "compute");

            migrationBuilder.CreateTable(
                name: "enrollment_tokens",
                schema: "compute",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_enrollment_tokens", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "hosts",
                schema: "compute",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Zone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Driver = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Accelerator = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    VCpuCapacity = table.Column<int>(type: "integer", nullable: false),
                    MemoryMiBCapacity = table.Column<int>(type: "integer", nullable: false),
                    DiskGiBCapacity = table.Column<int>(type: "integer", nullable: false),
                    VCpuAllocated = table.Column<int>(type: "integer", nullable: false),
                    MemoryMiBAllocated = table.Column<int>(type: "integer", nullable: false),
                    DiskGiBAllocated = table.Column<int>(type: "integer", nullable: false),
                    DesiredVersion = table.Column<long>(type: "bigint", nullable: false),
                    AgentTokenHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    EnrolledAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastHeartbeatAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    AgentVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_hosts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                schema: "compute",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    MessageType = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Body = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DeliverAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DispatchedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "processed_messages",
                schema: "compute",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    Consumer = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    ProcessedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_processed_messages", x => new { x.Consumer, x.MessageId });
                });

            migrationBuilder.CreateTable(
                name: "vm_operations",
                schema: "compute",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    VmId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Argument = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Result = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vm_operations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "vms",
                schema: "compute",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    HostId = table.Column<Guid>(type: "uuid", nullable: false),
                    TenantId = table.Column<Guid>(type: "uuid", nullable: true),
                    Region = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ImageId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    VCpuCount = table.Column<int>(type: "integer", nullable: false),
                    MemoryMiB = table.Column<int>(type: "integer", nullable: false),
                    DiskGiB = table.Column<int>(type: "integer", nullable: false),
                    DesiredPower = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DeleteRequested = table.Column<bool>(type: "boolean", nullable: false),
                    Generation = table.Column<long>(type: "bigint", nullable: false),
                    ReportedState = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    ReportedGeneration = table.Column<long>(type: "bigint", nullable: false),
                    Ready = table.Column<bool>(type: "boolean", nullable: false),
                    ReportedDetail = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true),
                    ReportedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_vms", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_enrollment_tokens_TokenHash",
                schema: "compute",
                table: "enrollment_tokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_hosts_AgentTokenHash",
                schema: "compute",
                table: "hosts",
                column: "AgentTokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_hosts_Region_Name",
                schema: "compute",
                table: "hosts",
                columns: new[] { "Region", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_DispatchedAt_CreatedAt",
                schema: "compute",
                table: "outbox_messages",
                columns: new[] { "DispatchedAt", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_vm_operations_VmId_Status",
                schema: "compute",
                table: "vm_operations",
                columns: new[] { "VmId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_vms_HostId",
                schema: "compute",
                table: "vms",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_vms_TenantId",
                schema: "compute",
                table: "vms",
                column: "TenantId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "enrollment_tokens",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "hosts",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "outbox_messages",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "processed_messages",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "vm_operations",
                schema: "compute");

            migrationBuilder.DropTable(
                name: "vms",
                schema: "compute");
        }
    }
}
