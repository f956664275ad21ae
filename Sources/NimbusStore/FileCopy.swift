import Foundation

enum FileCopy {
    /// Copies a model file or checkpoint folder to `destination` with every symbolic link
    /// replaced by the file it points to. Hugging Face snapshot folders are links into a
    /// `blobs/` folder beside them; copied as links they would dangle once the cache or store
    /// moves to another machine, which is the point of a store.
    static func copyResolvingLinks(from source: String, to destination: String) throws(StoreError) {
        let fm = FileManager.default
        let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: resolved, isDirectory: &isDirectory) else { throw .notFound(source) }
        do {
            guard isDirectory.boolValue else {
                try fm.copyItem(atPath: resolved, toPath: destination)
                return
            }
            try fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
            for relative in try ContentDigest.files(under: resolved) {
                let target = destination + "/" + relative
                try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let file = URL(fileURLWithPath: resolved + "/" + relative).resolvingSymlinksInPath().path
                try fm.copyItem(atPath: file, toPath: target)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .io("cannot copy \(source) to \(destination): \(error.localizedDescription)")
        }
    }
}
