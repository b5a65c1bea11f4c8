namespace Stratus.Platform;

/// <summary>
/// A mistake in flags, environment or configuration that the person starting Stratus can fix.
/// The host prints its message as one line and exits non-zero, without a stack trace.
/// </summary>
public sealed class ConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
