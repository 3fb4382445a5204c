"""Code a developer copies to connect an app: register its device, set its user, report a
launch, in curl, Swift, Kotlin and C#, filled with the app's public endpoint, ids and client key.

Only a client key ever goes in: it is shown in full just after it is made, so otherwise the
snippets name a placeholder and the page links to making one. The text is plain; the page
escapes it when it shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from devices.models import MobileApp, Platform

# What a snippet says where the app's client key goes when the page does not know it (curl
# reads it from $CLIENT_KEY).
KEY_PLACEHOLDER = "YOUR_CLIENT_KEY"


@dataclass(frozen=True)
class Snippet:
    title: str
    code: str


@dataclass(frozen=True)
class Language:
    key: str
    name: str
    snippets: list[Snippet]


def fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    return template


CURL_KEY = "CLIENT_KEY='@KEY@'\n"

CURL_REGISTER = """curl -X PUT -H "X-API-Token: $CLIENT_KEY" -H "Content-Type: application/json" \\
  @BASE@/api/v1/apps/@APP@/devices/$INSTALL_ID \\
  -d '{"platform": "@PLATFORM@", @ADDRESS@, "locale": "en-US"}'"""

CURL_ADDRESSES = {
    "ios": '"push_token": "<hex APNs device token>"',
    "android": '"push_token": "<FCM registration token>"',
    "windows": '"channel_uri": "<WNS channel URI>"',
}

CURL_USER = """curl -X PUT -H "X-API-Token: $CLIENT_KEY" -H "Content-Type: application/json" \\
  @BASE@/api/v1/apps/@APP@/devices/$INSTALL_ID/user \
  -d '{"user_id": "crm-42"}'"""

CURL_LAUNCH = """curl -X POST -H "X-API-Token: $CLIENT_KEY" -H "Content-Type: application/json" \\
  @BASE@/api/v1/apps/@APP@/launches \
  -d '{"tracking_id": "<the notification's tracking_id>"}'"""

CURL_D365 = """curl -X POST -H "Content-Type: application/json" \\
  @BASE@/api/v1.0/orgs/@ORG@/pushchannel/apps/@APP@/devices/$USER_ID \\
  -d '{"@CONTRACT@": {"@FIELD@": "<@WHAT@>"}, "ApiToken": "'"$CLIENT_KEY"'"}'"""

D365_CONTRACTS = {
    "ios": ("ApnsDeviceContract", "ApnsToken", "hex APNs device token"),
    "android": ("FcmDeviceContract", "FcmToken", "FCM registration token"),
    "windows": ("WnsDeviceContract", "ChannelUri", "WNS channel URI"),
}

SWIFT = """// AppDelegate: register the APNs device token with Push Center.
enum PushCenter {
    static let base = "@BASE@/api/v1/apps/@APP@"
    static let clientKey = "@KEY@"  // a client key, never a server token

    // One id per installation, kept across launches.
    static var installId: String {
        if let id = UserDefaults.standard.string(forKey: "installId") { return id }
        let id = UUID().uuidString.lowercased()
        UserDefaults.standard.set(id, forKey: "installId")
        return id
    }

    static func call(_ method: String, _ path: String, _ body: [String: Any]) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.setValue(clientKey, forHTTPHeaderField: "X-API-Token")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try? JSONSerialization.data(withJSONObject: body)
        URLSession.shared.dataTask(with: request).resume()
    }

    static func register(deviceToken: Data) {
        let token = deviceToken.map { String(format: "%02x", $0) }.joined()
        call("PUT", "/devices/\\(installId)",
             ["platform": "ios", "push_token": token, "locale": Locale.current.identifier])
    }

    static func setUser(_ userId: String) {
        call("PUT", "/devices/\\(installId)/user", ["user_id": userId])
    }

    static func trackLaunch(_ trackingId: String) {
        call("POST", "/launches", ["tracking_id": trackingId])
    }
}

func application(_ application: UIApplication,
                 didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
    PushCenter.register(deviceToken: deviceToken)
}

func userNotificationCenter(_ center: UNUserNotificationCenter,
                            didReceive response: UNNotificationResponse,
                            withCompletionHandler done: @escaping () -> Void) {
    if let id = response.notification.request.content.userInfo["tracking_id"] as? String {
        PushCenter.trackLaunch(id)
    }
    done()
}"""

KOTLIN = """// Register the FCM registration token with Push Center.
object PushCenter {
    const val BASE = "@BASE@/api/v1/apps/@APP@"
    const val CLIENT_KEY = "@KEY@" // a client key, never a server token

    // One id per installation, kept across launches.
    fun installId(context: Context): String {
        val prefs = context.getSharedPreferences("pushcenter", Context.MODE_PRIVATE)
        return prefs.getString("installId", null)
            ?: UUID.randomUUID().toString().also { prefs.edit().putString("installId", it).apply() }
    }

    private fun call(method: String, path: String, body: JSONObject) = thread {
        (URL(BASE + path).openConnection() as HttpURLConnection).run {
            requestMethod = method; doOutput = true
            setRequestProperty("X-API-Token", CLIENT_KEY)
            setRequestProperty("Content-Type", "application/json")
            outputStream.use { it.write(body.toString().toByteArray()) }
            responseCode
        }
    }

    fun register(context: Context, token: String) = call(
        "PUT", "/devices/${installId(context)}",
        JSONObject(mapOf("platform" to "android", "push_token" to token,
                         "locale" to Locale.getDefault().toLanguageTag())))

    fun setUser(context: Context, userId: String) =
        call("PUT", "/devices/${installId(context)}/user", JSONObject(mapOf("user_id" to userId)))

    fun trackLaunch(trackingId: String) =
        call("POST", "/launches", JSONObject(mapOf("tracking_id" to trackingId)))
}

class PushService : FirebaseMessagingService() {
    override fun onNewToken(token: String) = PushCenter.register(this, token).let { }
}

// In the launcher activity's onCreate and onNewIntent:
intent.getStringExtra("tracking_id")?.let { PushCenter.trackLaunch(it) }"""

CSHARP = """// Windows App SDK: request a WNS channel and register it with Push Center.
using Microsoft.Windows.PushNotifications;

static class PushCenter
{
    const string Base = "@BASE@/api/v1/apps/@APP@";
    const string ClientKey = "@KEY@"; // a client key, never a server token
    static readonly HttpClient Http = new();

    // One id per installation, kept across launches.
    static string InstallId
    {
        get
        {
            var settings = Windows.Storage.ApplicationData.Current.LocalSettings.Values;
            settings["installId"] ??= Guid.NewGuid().ToString();
            return (string)settings["installId"];
        }
    }

    static Task CallAsync(HttpMethod method, string path, object body)
    {
        var request = new HttpRequestMessage(method, Base + path)
        {
            Content = JsonContent.Create(body),
        };
        request.Headers.Add("X-API-Token", ClientKey);
        return Http.SendAsync(request);
    }

    // remoteId: your Azure app registration's Object ID.
    public static async Task RegisterAsync(Guid remoteId)
    {
        var result = await PushNotificationManager.Default.CreateChannelAsync(remoteId);
        if (result.Status != PushNotificationChannelStatus.CompletedSuccess) return;
        await CallAsync(HttpMethod.Put, $"/devices/{InstallId}", new Dictionary<string, object>
        {
            ["platform"] = "windows",
            ["channel_uri"] = result.Channel.Uri.ToString(),
            ["locale"] = CultureInfo.CurrentUICulture.Name,
        });
    }

    public static Task SetUserAsync(string userId) =>
        CallAsync(HttpMethod.Put, $"/devices/{InstallId}/user",
                  new Dictionary<string, object> { ["user_id"] = userId });

    public static Task TrackLaunchAsync(string trackingId) =>
        CallAsync(HttpMethod.Post, "/launches",
                  new Dictionary<string, object> { ["tracking_id"] = trackingId });
}"""


def values(app: MobileApp, client_key: str | None) -> dict[str, str]:
    """What the snippets are filled with: the public endpoint, the app's ids, the key."""
    return {
        "BASE": settings.PUBLIC_URL,
        "APP": str(app.application_id),
        "ORG": str(app.organization.organization_id),
        "KEY": client_key or KEY_PLACEHOLDER,
    }


def platforms_of(app: MobileApp) -> list[str]:
    """The platforms to show registration for: the app's, or iOS when it has none yet."""
    return app.platforms() or ["ios"]


def curl(app: MobileApp, filled: dict[str, str], client_key: str | None) -> list[Snippet]:
    """The calls themselves: native registration per platform, user, launch, the D365 door."""
    head = fill(CURL_KEY, filled) if client_key else ""
    found = []
    for platform in platforms_of(app):
        address = {**filled, "PLATFORM": platform, "ADDRESS": CURL_ADDRESSES[platform]}
        found.append(
            Snippet(
                f"Register a device ({Platform(platform).label})",
                head + fill(CURL_REGISTER, address),
            )
        )
    found.append(Snippet("Set the device's user", head + fill(CURL_USER, filled)))
    found.append(Snippet("Report a launch", head + fill(CURL_LAUNCH, filled)))
    for platform in platforms_of(app):
        contract, field, what = D365_CONTRACTS[platform]
        door = {**filled, "CONTRACT": contract, "FIELD": field, "WHAT": what}
        found.append(
            Snippet(f"Dynamics 365 door ({Platform(platform).label})", head + fill(CURL_D365, door))
        )
    return found


def languages(app: MobileApp, client_key: str | None = None) -> list[Language]:
    """Every language's snippets for the app; `client_key` only when one was just made."""
    filled = values(app, client_key)
    return [
        Language("curl", "curl", curl(app, filled, client_key)),
        Language(
            "swift",
            "Swift (iOS)",
            [Snippet("Register, set the user, report launches", fill(SWIFT, filled))],
        ),
        Language(
            "kotlin",
            "Kotlin (Android)",
            [Snippet("Register, set the user, report launches", fill(KOTLIN, filled))],
        ),
        Language(
            "csharp",
            "C# (Windows App SDK)",
            [Snippet("Register, set the user, report launches", fill(CSHARP, filled))],
        ),
    ]
