using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Compute.Hosts;
using Stratus.Compute.Networks;
using Stratus.Compute.Vms;
using Stratus.Platform.Persistence;

namespace Stratus.Compute.Persistence;

public abstract class ComputeDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "compute";

    public override string Schema => SchemaName;

    public DbSet<Host> Hosts => Set<Host>();

    public DbSet<EnrollmentToken> EnrollmentTokens => Set<EnrollmentToken>();

    public DbSet<Vm> Vms => Set<Vm>();

    public DbSet<VmOperation> VmOperations => Set<VmOperation>();

    public DbSet<DeletedVm> DeletedVms => Set<DeletedVm>();

    public DbSet<UnmanagedVm> UnmanagedVms => Set<UnmanagedVm>();

    public DbSet<ConsoleRelay> ConsoleRelays => Set<ConsoleRelay>();

    public DbSet<VmDiskCopy> VmDiskCopies => Set<VmDiskCopy>();

    public DbSet<MovedVm> MovedVms => Set<MovedVm>();

    public DbSet<NetworkConnection> NetworkConnections => Set<NetworkConnection>();

    public DbSet<NetworkAddress> NetworkAddresses => Set<NetworkAddress>();

    public DbSet<HostNetworkCheck> HostNetworkChecks => Set<HostNetworkCheck>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Host>(host =>
        {
            host.ToTable("hosts");
            host.HasKey(h => h.Id);
            host.Property(h => h.Name).HasMaxLength(128);
            host.Property(h => h.Region).HasMaxLength(64);
            host.Property(h => h.Zone).HasMaxLength(64);
            host.Property(h => h.State).HasConversion<string>().HasMaxLength(16);
            host.Property(h => h.Driver).HasMaxLength(32);
            host.Property(h => h.Accelerator).HasMaxLength(32);
            host.Property(h => h.AgentTokenHash).HasMaxLength(64);
            host.Property(h => h.AgentVersion).HasMaxLength(64);
            host.Property(h => h.DesiredVersion).IsConcurrencyToken();
            host.Property(h => h.LastHeartbeatAt).IsConcurrencyToken();
            host.HasIndex(h => h.AgentTokenHash).IsUnique();
            host.HasIndex(h => new { h.Region, h.Name }).IsUnique();
        });
        modelBuilder.Entity<NetworkConnection>(connection =>
        {
            connection.ToTable("network_connections");
            connection.HasKey(c => c.Id);
            connection.Property(c => c.Region).HasMaxLength(64);
            connection.Property(c => c.Subnet).HasMaxLength(64);
            connection.Property(c => c.Gateway).HasMaxLength(64);
            connection.Property(c => c.UplinkKind).HasMaxLength(32);
            connection.Property(c => c.UplinkInterface).HasMaxLength(64);
            connection.Property(c => c.VxlanRemote).HasMaxLength(64);
            connection.Property(c => c.DnsSearchDomain).HasMaxLength(255);
            connection.HasIndex(c => new { c.Region, c.Deleted });
        });
        modelBuilder.Entity<NetworkAddress>(address =>
        {
            address.ToTable("network_addresses");
            // One row per address of a connection: two allocations of one address cannot both commit.
            address.HasKey(a => new { a.ConnectionId, a.Address });
            address.Property(a => a.Address).HasMaxLength(64);
            address.HasIndex(a => a.VmId);
            address.HasIndex(a => a.HostId);
        });
        modelBuilder.Entity<HostNetworkCheck>(check =>
        {
            check.ToTable("host_network_checks");
            check.HasKey(c => new { c.HostId, c.ConnectionId });
        });
        modelBuilder.Entity<EnrollmentToken>(token =>
        {
            token.ToTable("enrollment_tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.TokenHash).HasMaxLength(64);
            token.Property(t => t.Region).HasMaxLength(64);
            token.HasIndex(t => t.TokenHash).IsUnique();
        });
        modelBuilder.Entity<Vm>(vm =>
        {
            vm.ToTable("vms");
            vm.HasKey(v => v.Id);
            vm.Property(v => v.Region).HasMaxLength(64);
            vm.Property(v => v.ImageId).HasMaxLength(128);
            vm.Property(v => v.DesiredPower).HasConversion<string>().HasMaxLength(16);
            vm.Property(v => v.ReportedState).HasMaxLength(32);
            vm.Property(v => v.ReportedDetail).HasMaxLength(4096);
            vm.Property(v => v.CopyBackupRegion).HasMaxLength(64);
            vm.Property(v => v.RestoreFromRegion).HasMaxLength(64);
            vm.Property(v => v.RecoveryFailure).HasMaxLength(1024);
            vm.HasIndex(v => v.HostId);
            vm.HasIndex(v => v.TenantId);
        });
        modelBuilder.Entity<VmDiskCopy>(copy =>
        {
            copy.ToTable("vm_disk_copies");
            copy.HasKey(c => new { c.VmId, c.StoreUri });
            copy.Property(c => c.StoreUri).HasMaxLength(1024);
            copy.Property(c => c.Region).HasMaxLength(64);
            copy.Property(c => c.LastError).HasMaxLength(2048);
            copy.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
            copy.Property(c => c.StatusReason).HasMaxLength(2048);
        });
        modelBuilder.Entity<MovedVm>(moved =>
        {
            moved.ToTable("moved_vms");
            moved.HasKey(m => new { m.VmId, m.FromHostId });
            moved.HasIndex(m => new { m.FromHostId, m.ConfirmedAt });
        });
        modelBuilder.Entity<DeletedVm>(deleted =>
        {
            deleted.ToTable("deleted_vms");
            deleted.HasKey(d => d.Id);
            deleted.HasIndex(d => new { d.HostId, d.ConfirmedAt });
            deleted.HasIndex(d => d.ConfirmedAt);
        });
        modelBuilder.Entity<UnmanagedVm>(unmanaged =>
        {
            unmanaged.ToTable("unmanaged_vms");
            unmanaged.HasKey(u => new { u.HostId, u.VmId });
            unmanaged.Property(u => u.State).HasMaxLength(32);
            unmanaged.Property(u => u.ImageId).HasMaxLength(128);
        });
        modelBuilder.Entity<ConsoleRelay>(relay =>
        {
            relay.ToTable("console_relays");
            relay.HasKey(r => r.Id);
            relay.Property(r => r.Url).HasMaxLength(2048);
            relay.Property(r => r.Secret).HasMaxLength(128);
            relay.HasIndex(r => new { r.HostId, r.ExpiresAt });
        });
        modelBuilder.Entity<VmOperation>(operation =>
        {
            operation.ToTable("vm_operations");
            operation.HasKey(o => o.Id);
            operation.Property(o => o.Kind).HasConversion<string>().HasMaxLength(32);
            operation.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
            operation.Property(o => o.Argument).HasMaxLength(1024);
            operation.Property(o => o.Result).HasMaxLength(4096);
            operation.HasIndex(o => new { o.VmId, o.Status });
            operation.HasIndex(o => o.CompletedAt);
        });
    }
}

public sealed class SqliteComputeDbContext(DbContextOptions<SqliteComputeDbContext> options, TimeProvider clock) : ComputeDbContext(options, clock);

public sealed class PostgresComputeDbContext(DbContextOptions<PostgresComputeDbContext> options, TimeProvider clock) : ComputeDbContext(options, clock);

internal sealed class SqliteComputeDesignTimeFactory : IDesignTimeDbContextFactory<SqliteComputeDbContext>
{
    public SqliteComputeDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteComputeDbContext>(), TimeProvider.System);
}

internal sealed class PostgresComputeDesignTimeFactory : IDesignTimeDbContextFactory<PostgresComputeDbContext>
{
    public PostgresComputeDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresComputeDbContext>(ComputeDbContext.SchemaName), TimeProvider.System);
}
