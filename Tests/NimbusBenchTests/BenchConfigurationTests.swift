import Testing
@testable import NimbusBench

@Suite("BenchConfiguration and ServerAddress")
struct BenchConfigurationTests {
    @Test func addressesParse() throws {
        let cases: [(String, String, Int, String)] = [
            ("http://127.0.0.1:8000", "127.0.0.1", 8000, ""),
            ("http://localhost:8000/v1", "localhost", 8000, ""),
            ("http://localhost:8000/v1/", "localhost", 8000, ""),
            ("http://example.local", "example.local", 80, ""),
            ("http://[::1]:9000/proxy/v1", "::1", 9000, "/proxy"),
            ("HTTP://host:1/api", "host", 1, "/api"),
        ]
        for (url, host, port, prefix) in cases {
            let address = try ServerAddress(parsing: url)
            #expect(address.host == host, "\(url)")
            #expect(address.port == port, "\(url)")
            #expect(address.pathPrefix == prefix, "\(url)")
        }
        #expect(try ServerAddress(parsing: "http://[::1]:9000").hostHeader == "[::1]:9000")
        #expect(try ServerAddress(parsing: "http://h/x/v1").target("/v1/models") == "/x/v1/models")
    }

    @Test func badAddressesAreRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("https://api.openai.com/v1", "https is not supported yet"),
            ("localhost:8000", "must start with http://"),
            ("http://:8000", "no host"),
            ("http://host:0", "invalid port"),
            ("http://host:99999", "invalid port"),
            ("http://host:abc", "invalid port"),
            ("http://[::1:80", "unterminated IPv6"),
        ]
        for (url, reason) in cases {
            #expect {
                _ = try ServerAddress(parsing: url)
            } throws: { error in
                "\(error)".contains(reason)
            }
        }
    }

    @Test func concurrencySweepParses() throws {
        #expect(try BenchConfiguration.parseConcurrencies("4") == [4])
        #expect(try BenchConfiguration.parseConcurrencies("1,4, 8,16") == [1, 4, 8, 16])
        for bad in ["", "0", "1,,2", "-1", "two", "1;2"] {
            #expect(throws: BenchError.self) { try BenchConfiguration.parseConcurrencies(bad) }
        }
    }

    @Test func invalidValuesNameTheirFlag() throws {
        let address = try ServerAddress(parsing: "http://127.0.0.1:8000")
        let cases: [(String, () throws -> BenchConfiguration)] = [
            ("--requests", { try BenchConfiguration(address: address, requestsPerLevel: 0) }),
            ("--input-tokens", { try BenchConfiguration(address: address, inputTokens: 0) }),
            ("--output-tokens", { try BenchConfiguration(address: address, outputTokens: 0) }),
            ("--warmup", { try BenchConfiguration(address: address, warmupRequests: -1) }),
            ("--timeout", { try BenchConfiguration(address: address, timeout: .zero) }),
            ("--concurrency", { try BenchConfiguration(address: address, concurrencies: []) }),
            ("--model", { try BenchConfiguration(address: address, model: "") }),
        ]
        for (flag, make) in cases {
            #expect {
                _ = try make()
            } throws: { error in
                "\(error)".hasPrefix(flag)
            }
        }
    }

    @Test func timeoutIsConvertedWithinItsRange() throws {
        #expect(try BenchConfiguration.timeout(seconds: 0.25) == .milliseconds(250))
        #expect(try BenchConfiguration.timeout(seconds: 86_400) == .seconds(86_400))
        for bad in [0, -1, 86_401, .nan, .infinity] as [Double] {
            #expect(throws: BenchError.self) { try BenchConfiguration.timeout(seconds: bad) }
        }
    }

    @Test func defaultRequestsGrowWithConcurrency() throws {
        let configuration = try BenchConfiguration(address: ServerAddress(parsing: "http://h:1"))
        #expect(configuration.requests(atConcurrency: 1) == 8)
        #expect(configuration.requests(atConcurrency: 16) == 32)
        var fixed = configuration
        fixed.requestsPerLevel = 5
        #expect(fixed.requests(atConcurrency: 16) == 5)
    }
}
