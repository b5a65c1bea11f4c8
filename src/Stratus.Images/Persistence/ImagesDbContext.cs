using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Stratus.Images.DeviceImages;
using Stratus.Images.Replication;
using Stratus.Platform.Persistence;

namespace Stratus.Images.Persistence;

public abstract class ImagesDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "images";

    public override string Schema => SchemaName;

    public DbSet<DeviceImage> DeviceImages => Set<DeviceImage>();

    public DbSet<ImportJob> ImportJobs => Set<ImportJob>();

    public DbSet<FileReplica> FileReplicas => Set<FileReplica>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<DeviceImage>(image =>
        {
            image.ToTable("device_images");
            image.HasKey(i => i.Id);
            image.Ignore(i => i.ImageId);
            image.Property(i => i.DisplayName).HasMaxLength(256);
            image.Property(i => i.Version).HasMaxLength(64);
            image.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
            image.Property(i => i.ErrorCode).HasMaxLength(64);
            image.Property(i => i.StatusDetails).HasMaxLength(2048);
            image.Property(i => i.SourceImageResourceId).HasMaxLength(128);
            image.Property(i => i.UploadFile).HasMaxLength(128);
            image.Property(i => i.SourceFormat).HasMaxLength(16);
            image.Property(i => i.ConcurrencyStamp).IsConcurrencyToken();
            image.HasIndex(i => new { i.TenantId, i.CreatedAt });
        });
        modelBuilder.Entity<ImportJob>(job =>
        {
            job.ToTable("import_jobs");
            job.HasKey(j => j.Id);
            job.Property(j => j.UploadFile).HasMaxLength(128);
            job.Property(j => j.State).HasConversion<string>().HasMaxLength(16);
            job.Property(j => j.Error).HasMaxLength(2048);
            job.Property(j => j.LeaseOwner).HasMaxLength(128);
            job.HasIndex(j => new { j.State, j.CreatedAt });
        });
        modelBuilder.Entity<FileReplica>(replica =>
        {
            replica.ToTable("file_replicas");
            replica.HasKey(r => r.Id);
            replica.Ignore(r => r.Unreplicated);
            replica.Property(r => r.SourceRegion).HasMaxLength(128);
            replica.Property(r => r.TargetRegion).HasMaxLength(128);
            replica.Property(r => r.Set).HasMaxLength(128);
            replica.Property(r => r.Path).HasMaxLength(1024);
            replica.Property(r => r.ImageId).HasMaxLength(128);
            replica.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
            replica.Property(r => r.Sha256).HasMaxLength(64);
            replica.Property(r => r.LastError).HasMaxLength(2048);
            replica.HasIndex(r => new { r.SourceRegion, r.TargetRegion, r.Set, r.Path }).IsUnique();
            replica.HasIndex(r => new { r.TenantId, r.ImageId });
            replica.HasIndex(r => new { r.State, r.SourceModifiedAt });
        });
    }
}

public sealed class SqliteImagesDbContext(DbContextOptions<SqliteImagesDbContext> options, TimeProvider clock) : ImagesDbContext(options, clock);

public sealed class PostgresImagesDbContext(DbContextOptions<PostgresImagesDbContext> options, TimeProvider clock) : ImagesDbContext(options, clock);

internal sealed class SqliteImagesDesignTimeFactory : IDesignTimeDbContextFactory<SqliteImagesDbContext>
{
    public SqliteImagesDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<SqliteImagesDbContext>(), TimeProvider.System);
}

internal sealed class PostgresImagesDesignTimeFactory : IDesignTimeDbContextFactory<PostgresImagesDbContext>
{
    public PostgresImagesDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<PostgresImagesDbContext>(ImagesDbContext.SchemaName), TimeProvider.System);
}
