import Foundation
import Testing
@testable import NimbusStore

@Suite struct ChecksumTests {
    @Test func parsesWhatPeopleAndSidecarsWrite() throws {
        let hex = String(repeating: "ab", count: 32)
        #expect(try ContentDigest.parseChecksum(hex) == hex)
        #expect(try ContentDigest.parseChecksum(hex.uppercased() + "  model.gguf\n") == hex)
        #expect(throws: StoreError.self) { try ContentDigest.parseChecksum(String(hex.dropLast())) }
        #expect(throws: StoreError.self) { try ContentDigest.parseChecksum(String(hex.dropLast()) + "g") }
        #expect(throws: StoreError.self) { try ContentDigest.parseChecksum("<html>not found</html>") }
    }

    @Test func fileDigestMatchesSha256sum() throws {
        let folder = try temporaryFolder()
        // Larger than one read chunk, so chunking is exercised.
        let bytes = fakeGGUF(count: ContentDigest.chunkSize + 12345, seed: 7)
        try writeFile(folder + "/m.gguf", bytes)
        let (sha, size) = try ContentDigest.of(path: folder + "/m.gguf")
        #expect(size == Int64(bytes.count))
        #expect(sha == (try systemSHA256(folder + "/m.gguf")))
    }

    @Test func folderDigestIsTheDigestOfItsListing() throws {
        let folder = try temporaryFolder()
        try writeFile(folder + "/ckpt/config.json", Array("{}".utf8))
        try writeFile(folder + "/ckpt/sub/weights.bin", fakeGGUF(count: 100, seed: 3))
        let listing = "\(try systemSHA256(folder + "/ckpt/config.json"))  config.json\n"
            + "\(try systemSHA256(folder + "/ckpt/sub/weights.bin"))  sub/weights.bin\n"
        try writeFile(folder + "/listing.txt", Array(listing.utf8))
        let (sha, size) = try ContentDigest.of(path: folder + "/ckpt")
        #expect(sha == (try systemSHA256(folder + "/listing.txt")))
        #expect(size == 2 + 104)
        try writeFile(folder + "/ckpt/sub/weights.bin", fakeGGUF(count: 100, seed: 4))
        #expect(try ContentDigest.of(path: folder + "/ckpt").sha256 != sha)
    }
}
