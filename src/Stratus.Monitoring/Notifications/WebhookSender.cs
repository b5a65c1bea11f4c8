using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Stratus.Monitoring.Notifications;

/// <summary>
/// POSTs a notification's JSON to its webhook, signed: <see cref="SignatureHeader"/> is "sha256=" and the lowercase
/// hex HMAC-SHA256 of the exact body bytes under the rule's webhook secret. Any 2xx answer is a delivery.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const string SignatureHeader = "X-Stratus-Signature";
    public const string EventHeader = "X-Stratus-Alert-Record";

    // Its own client, not one from the service defaults: their retries would hide attempts from the delivery log, and
    // a webhook's redirect is not followed (the administrator named this URL).
    private readonly HttpClient http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) });

    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <returns>"HTTP status" of a 2xx answer; throws <see cref="HttpRequestException"/> for any other.</returns>
    public async Task<string> SendAsync(Notification notification, string secret, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(notification.Payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, notification.Target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(SignatureHeader, Sign(secret, body));
        request.Headers.Add(EventHeader, notification.RecordId.ToString());
        using var response = await http.SendAsync(request, cancellationToken);
        var answer = $"HTTP {(int)response.StatusCode}";
        return response.IsSuccessStatusCode ? answer : throw new HttpRequestException($"The webhook answered {answer} {response.ReasonPhrase}.");
    }

    public void Dispose() => http.Dispose();
}
