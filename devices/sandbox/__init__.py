"""Loopback look-alikes of APNs, FCM HTTP v1 and WNS, for the demo, the tests and benchmarks.

`python manage.py sandbox_gateways` serves them over TLS on 127.0.0.1 (URLs say `localhost`):
APNs on SANDBOX_APNS_PORT (9441, HTTP/2 only), FCM and its token endpoint on SANDBOX_FCM_PORT
(9442), WNS and its token endpoint on SANDBOX_WNS_PORT (9443); PUSHCENTER_SANDBOX_PORTS moves all
three (APNs on it, FCM and WNS on the next two). The certificate is signed by a
private CA made once in SANDBOX_DIR (`ca.pem`; keys 0600), which PUSHCENTER_SANDBOX=1 makes the
providers trust through CA_BUNDLE. Every request is appended to SANDBOX_DIR/received.jsonl as
one JSON object: provider ("apns", "fcm", "wns", "fcm-token", "wns-token"), target (device
token, channel URI, or the client at a token endpoint), headers (credentials reduced to
"Bearer …"), payload (parsed JSON or XML text; token requests without assertion or secret),
status, at — plus reason when refused and validate_only for an FCM dry run.

What each gateway verifies, against the app credentials in the database (or, in tests, those
registered by the fixture in tests/sandbox.py):

- APNs `POST /3/device/{token}`: a bearer JWT signed ES256 by the .p8 key whose Key ID is the
  header's kid and Team ID the claim iss, iat within the last hour (403 InvalidProviderToken,
  ExpiredProviderToken, MissingProviderToken), and no new token for a key on a connection
  that took another for it less than 20 minutes before (429 TooManyProviderTokenUpdates; Apple's
  "Establishing a token-based connection to APNs"); apns-topic is that credential's bundle ID or
  one of its .voip/.complication/... variants (400 MissingTopic, TopicDisallowed); apns-push-type
  present and known (InvalidPushType); apns-id a UUID, apns-priority 10/5/1, apns-expiration a
  number, apns-collapse-id at most 64 bytes; the token 64-200 hex digits (BadDeviceToken); a
  JSON-object body of at most 4096 bytes, 5120 for VoIP (PayloadEmpty, PayloadTooLarge 413;
  a body that is not a JSON object gets the sandbox's own BadPayload). Success: 200 with
  apns-id (the request's or a new one); errors are `{"reason": ...}`, 410 adds "timestamp".
  Certificate-auth apps: the TLS handshake asks for a client certificate and trusts exactly
  the push certificates of certificate-auth credentials (a certificate it does not know fails
  the handshake); a request without a JWT on such a connection may push to that credential's
  bundle ID (else DeviceTokenNotForTopic). Not checked: the certificate's Apple issuer, its
  topics extension, the credential's environment (one gateway serves both APNs hosts).
- FCM `POST /token`: the JWT-bearer grant, the assertion RS256-signed by the service account
  whose client_email is iss, aud https://oauth2.googleapis.com/token, at most an hour long and
  current, scope firebase.messaging (or cloud-platform); else Google's `{"error":
  "invalid_grant" | "invalid_scope" | ..., "error_description"}`. Answers an access token for
  3599 s. `POST /v1/projects/{p}/messages:send`: a token it issued (401 UNAUTHENTICATED), for
  project p (403 PERMISSION_DENIED); body only message and validate_only; message.token set,
  data values strings, android.ttl a duration, android.priority NORMAL/HIGH, content (message
  without token and android options) at most 4096 bytes. Success: `{"name":
  "projects/{p}/messages/{id}"}`; validate_only answers `.../messages/fake_message_id`.
- WNS `POST /{tenant}/oauth2/v2.0/token`: client_credentials with the client_id and
  client_secret of a WnsCredential of that tenant and scope
  https://wns.notifications.windows.com/.default; else Azure AD's error JSON (invalid_client,
  unauthorized_client, invalid_scope, ...). Any other path is a channel URI
  (`https://localhost:9443/?token={channel token}`): a token it issued (401), X-WNS-Type
  wns/toast|tile|badge|raw with Content-Type text/xml (application/octet-stream for raw) (400),
  well-formed XML without a DTD whose root is <toast>, <tile> or <badge> (400), X-WNS-TTL a
  number, X-WNS-Tag and X-WNS-Group alphanumeric and at most 16 characters (400), at most 5000
  bytes (413). Success: 200 with X-WNS-Status: received, X-WNS-Msg-ID and
  X-WNS-Debug-Trace; errors carry X-WNS-Error-Description, X-WNS-Msg-ID and X-WNS-Debug-Trace.

Failure injection, by the start of the device token (APNs: hex digits) or channel token:

| provider | target starts with | answer |
| --- | --- | --- |
| APNs | `dead`  | 410 `{"reason": "Unregistered", "timestamp": ms}` |
| APNs | `bad0`  | 400 BadDeviceToken |
| APNs | `f00d`  | 429 TooManyRequests |
| APNs | `fa11`  | 503 ServiceUnavailable |
| APNs | `c0de`  | 500 InternalServerError for the first 2 requests to that token, then 200 |
| APNs | `5105`  | 200 after 2 s |
| APNs | `c105ed` | 200, then GOAWAY `{"reason":"Shutdown"}` and the connection closed (server.py) |
| FCM  | `dead-` | 404 NOT_FOUND, errorCode UNREGISTERED |
| FCM  | `bad-`  | 400 INVALID_ARGUMENT, errorCode INVALID_ARGUMENT (not a valid FCM token) |
| FCM  | `other-`| 403 PERMISSION_DENIED, errorCode SENDER_ID_MISMATCH (another project's token) |
| FCM  | `busy-` | 429 RESOURCE_EXHAUSTED, errorCode QUOTA_EXCEEDED, Retry-After: 1 |
| FCM  | `fail-` | 503 UNAVAILABLE |
| FCM  | `flaky-`| 503 UNAVAILABLE for the first 2 requests to that token, then 200 |
| FCM  | `slow-` | 200 after 2 s |
| WNS  | `expired` | 410 (channel expired) |
| WNS  | `blocked` | 410, X-WNS-Error-Description "The sending domain has been blocked by WNS." |
| WNS  | `channelthrottled` | 200, X-WNS-Status: channelthrottled, X-WNS-Continue-After: 1 |
| WNS  | `dropped` | 200, X-WNS-Status: dropped |
| WNS  | `gone`  | 404 (channel not found) |
| WNS  | `throttled` | 406 (throttle limit) |
| WNS  | `busy`  | 429 with Retry-After: 1 |
| WNS  | `fail`  | 503 |
| WNS  | `flaky` | 500 for the first 2 requests to that channel, then 200 |
| WNS  | `slow`  | 200 after 2 s |

APNs also answers for a whole credential, by its bundle ID, when a test asks the gateway
(`ApnsGateway.wrong_environment(bundle_id)`, `.wrong_topic(bundle_id)`; tests/sandbox.py's
`sandbox.wrong_environment(app)`): every device token then gets 400 BadDeviceToken, as Apple
answers a token of the other environment, or 400 DeviceTokenNotForTopic, as for a wrong bundle
ID. `ApnsGateway.tokens_seen(team_id, key_id)` counts the distinct provider tokens that named a
team and key. The test fixture starts all of these over with each test.

Injected faults apply after every check passed, so a refused request is refused for its own
reason; FCM's apply to validate_only requests too. Flaky counts are per target and per
gateway process (tests start them over between tests).
"""
