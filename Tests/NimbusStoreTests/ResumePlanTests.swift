import Foundation
import Testing
@testable import NimbusStore

@Suite struct ResumePlanTests {
    @Test func contentRanges() {
        #expect(ContentRange("bytes 100-199/200")?.start == 100 && ContentRange("bytes 100-199/200")?.total == 200)
        #expect(ContentRange("bytes 0-9/*")?.total == nil)
        #expect(ContentRange("bytes */500")?.start == nil && ContentRange("bytes */500")?.total == 500)
        #expect(ContentRange("items 0-9/10") == nil)
        #expect(ContentRange("bytes 9-0/10") == nil)
    }

    @Test func decisions() {
        // A fresh download, or a server that ignores Range: write from the start.
        #expect(ResumePlan.decide(existing: 0, status: 200, contentRange: nil, contentLength: 300) == .restart(total: 300))
        #expect(ResumePlan.decide(existing: 100, status: 200, contentRange: nil, contentLength: 300) == .restart(total: 300))
        // The range asked for: append.
        #expect(ResumePlan.decide(existing: 100, status: 206, contentRange: "bytes 100-299/300", contentLength: 200) == .append(total: 300))
        // A range that does not start where the file ends would corrupt it.
        #expect(ResumePlan.decide(existing: 100, status: 206, contentRange: "bytes 50-299/300", contentLength: 250) == .fail(status: 206))
        #expect(ResumePlan.decide(existing: 100, status: 206, contentRange: nil, contentLength: 200) == .fail(status: 206))
        // Nothing left to fetch, or a partial file longer than the resource.
        #expect(ResumePlan.decide(existing: 300, status: 416, contentRange: "bytes */300", contentLength: nil) == .complete)
        #expect(ResumePlan.decide(existing: 400, status: 416, contentRange: "bytes */300", contentLength: nil) == .restart(total: nil))
        #expect(ResumePlan.decide(existing: 0, status: 404, contentRange: nil, contentLength: nil) == .fail(status: 404))
    }
}

@Suite struct SidecarURLTests {
    @Test func theChecksumSitsBesideTheFile() throws {
        let plain = try #require(URL(string: "https://h.example/m/a.gguf"))
        #expect(HTTPDownloader.sidecarURL(for: plain)?.absoluteString == "https://h.example/m/a.gguf.sha256")
        let query = try #require(URL(string: "http://127.0.0.1:9/a.gguf?download=true"))
        #expect(HTTPDownloader.sidecarURL(for: query)?.absoluteString == "http://127.0.0.1:9/a.gguf.sha256?download=true")
    }
}
