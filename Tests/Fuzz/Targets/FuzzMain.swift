import CFuzzDriver
import CMFSeg
import Foundation

/// One libFuzzer target: an input format over raw bytes, what it runs, and its seeds.
protocol FuzzTarget: Sendable {
    static var name: String { get }
    /// Runs one input. Every rejection must be a clean `CMFError` / status code; anything
    /// else (a trap, an internal error, a broken invariant) stops the process as a finding.
    static func run(_ input: UnsafeRawBufferPointer)
    /// The seed corpus, built from the test fixtures (`Tests/Fixtures`).
    static func seeds(fixtures: URL) throws -> [(name: String, bytes: [UInt8])]
}

let targets: [FuzzTarget.Type] = [NiftiTarget.self, SafeTensorsTarget.self, NetworkTarget.self,
                                  EvaluateTarget.self, SegmentTarget.self]

/// The target libFuzzer calls (a C callback cannot capture it).
nonisolated(unsafe) var selected: FuzzTarget.Type = NiftiTarget.self

/// `cmfseg-fuzz TARGET [libFuzzer flags and corpus dirs…]` fuzzes one target;
/// `cmfseg-fuzz seeds TARGET DIR FIXTURES` writes its seed corpus into DIR.
@main
enum FuzzMain {
    static func main() {
        let args = CommandLine.arguments
        if args.count == 5 && args[1] == "seeds" {
            do {
                try writeSeeds(target(args[2]), to: URL(fileURLWithPath: args[3]),
                               fixtures: URL(fileURLWithPath: args[4]))
            } catch {
                complain("cmfseg-fuzz: cannot write seeds: \(error)\n")
                exit(1)
            }
            return
        }
        guard args.count >= 2, args[1] != "seeds" else { usage() }
        selected = target(args[1])
        Scratch.prepare()
        // libFuzzer reads the rest of the command line; the target name is not for it.
        var argc = CommandLine.argc - 1
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        argv![1] = argv![0]
        argv = argv! + 1
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            selected.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }

    static func target(_ name: String) -> FuzzTarget.Type {
        guard let t = targets.first(where: { $0.name == name }) else {
            complain("cmfseg-fuzz: unknown target \"\(name)\"\n")
            usage()
        }
        return t
    }

    static func usage() -> Never {
        let names = targets.map { $0.name }.joined(separator: "|")
        complain("usage: cmfseg-fuzz \(names) [libFuzzer options] [corpus dirs]\n"
                 + "       cmfseg-fuzz seeds TARGET DIR FIXTURES_DIR\n")
        exit(2)
    }

    static func writeSeeds(_ t: FuzzTarget.Type, to dir: URL, fixtures: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for seed in try t.seeds(fixtures: fixtures) {
            try Data(seed.bytes).write(to: dir.appendingPathComponent(seed.name))
        }
    }
}

func complain(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Stops the fuzzer on an outcome the library promises never to produce.
func finding(_ what: String) -> Never {
    fatalError("cmfseg-fuzz \(selected.name): \(what)")
}

/// Runs library code whose only allowed failure is a `CMFError`.
func expectingCMFErrors<T>(_ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch let e as CMFError {
        if case .internal = e { finding("internal error: \(e.message)") }
        return nil
    } catch {
        finding("an error that is not a CMFError: \(error)")
    }
}
