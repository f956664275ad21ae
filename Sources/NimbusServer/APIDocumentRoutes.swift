import Hummingbird
import NimbusAPI

extension NimbusServer {
    /// The server's version, as `/openapi.json` and `nimbus openapi` report it.
    public static let version = "0.1.0"

    /// GET /openapi.json (the OpenAPI 3.1 description of every route) and GET /docs (the same,
    /// rendered as one self-contained HTML page). Both are built once, at start-up.
    static func addDocumentRoutes(to router: Router<NimbusRequestContext>) {
        // A trailing newline, like `nimbus openapi` writes, so the two are byte-for-byte equal.
        let document = OpenAPIDocument.json(version: version) + [UInt8(ascii: "\n")]
        let page = APIDocsPage.html(document: document)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        router.get("/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
    }
}
