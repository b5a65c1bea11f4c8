using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Auth;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Persistence;

public abstract class IdentityDbContext(DbContextOptions options, TimeProvider clock) : ServiceDbContext(options, clock)
{
    public const string SchemaName = "identity";

    public override string Schema => SchemaName;

    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<SignInAttempt> SignInAttempts => Set<SignInAttempt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Account>(account =>
        {
            account.ToTable("accounts");
            account.HasKey(a => a.Id);
            account.Property(a => a.UserName).HasMaxLength(256);
            account.Property(a => a.NormalizedUserName).HasMaxLength(256);
            account.HasIndex(a => a.NormalizedUserName).IsUnique();
            account.Property(a => a.DisplayName).HasMaxLength(256);
            account.HasIndex(a => a.TenantId);
        });
        modelBuilder.Entity<SignInAttempt>(attempt =>
        {
            attempt.ToTable("sign_in_attempts");
            attempt.HasKey(a => a.Id);
            attempt.Property(a => a.NormalizedUserName).HasMaxLength(256);
            attempt.Property(a => a.RemoteAddress).HasMaxLength(64);
            attempt.Property(a => a.Outcome).HasConversion<string>().HasMaxLength(32);
            attempt.HasIndex(a => new { a.NormalizedUserName, a.At });
            attempt.HasIndex(a => new { a.RemoteAddress, a.At });
        });
    }
}

public sealed class SqliteIdentityDbContext(DbContextOptions<SqliteIdentityDbContext> options, TimeProvider clock) : IdentityDbContext(options, clock);

public sealed class PostgresIdentityDbContext(DbContextOptions<PostgresIdentityDbContext> options, TimeProvider clock) : IdentityDbContext(options, clock);
