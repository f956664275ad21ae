/// Body of `GET /v1/health/ready` and `/v1/health/live`, in NIM's shape:
/// `{"object": "health.response", "message": "...", "status": "..."}`.
///
/// Orchestrators only look at the HTTP status (200 vs 503), but NIM clients and dashboards
/// show the message, so it is kept human-readable.
public struct HealthResponse: Sendable, Hashable, Codable {
    /// Always `health.response`.
    public var object: String
    public var message: String
    /// `ready`, `live` or `not_ready`; NIM keeps it for backwards compatibility.
    public var status: String?

    public init(message: String, status: String? = nil) {
        self.object = "health.response"
        self.message = message
        self.status = status
    }

    /// 200 answer of `/v1/health/ready`.
    public static let ready = HealthResponse(message: "Service is ready.", status: "ready")
    /// 200 answer of `/v1/health/live`.
    public static let live = HealthResponse(message: "Service is live.", status: "live")
    /// Body to send with 503 from `/v1/health/ready` while the model loads.
    public static let notReady = HealthResponse(message: "Service is not ready.", status: "not_ready")

    private enum CodingKeys: String, CodingKey { case object, message, status }
}
