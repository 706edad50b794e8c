@testable import CMFSeg
import Foundation
import TestSupport
import XCTest

/// Malformed files, built here by byte-level edits of a valid header: each gives the
/// right CMFError naming the file, never a crash, a huge allocation or a partial output.
final class NiftiBadInputTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try Fixtures.scratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A valid little-endian NIfTI-1 (or -2) file of 4×3×2 int16 voxels, as bytes.
    func validFile(version: Int = 1) throws -> [UInt8] {
        let src = Fixtures.path(version == 1 ? "nifti/dtype_int16.nii" : "nifti/n2_int16.nii")
        return Array(try Data(contentsOf: URL(fileURLWithPath: src)))
    }

    func put<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
    }
    func putFloat(_ bytes: inout [UInt8], _ offset: Int, _ value: Float) { put(&bytes, offset, value.bitPattern) }
    func putDouble(_ bytes: inout [UInt8], _ offset: Int, _ value: Double) { put(&bytes, offset, value.bitPattern) }

    func save(_ bytes: [UInt8], _ name: String, gzip: Bool = false) throws -> String {
        let path = dir.appendingPathComponent(name).path
        if gzip {
            // Compress with the library's own writer path: gzip via a round trip through a file.
            let raw = dir.appendingPathComponent("raw-" + name).path
            try Data(bytes).write(to: URL(fileURLWithPath: raw))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-c", raw]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            try data.write(to: URL(fileURLWithPath: path))
            try FileManager.default.removeItem(atPath: raw)
        } else {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        return path
    }

    /// Asserts readImage, readLabels and readHeader all fail with `kind`, message naming
    /// the file and containing `fragment`.
    func assertFails(_ path: String, _ kind: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        let readers: [(String, () throws -> Void)] = [
            ("readImage", { _ = try Nifti.readImage(path) }),
            ("readLabels", { _ = try Nifti.readLabels(path) }),
        ]
        for (name, read) in readers {
            XCTAssertThrowsError(try read(), "\(name) \(path)", file: file, line: line) { error in
                guard let e = error as? CMFError else { return XCTFail("\(error)", file: file, line: line) }
                let got: String
                switch e {
                case .io: got = "io"
                case .format: got = "format"
                case .shape: got = "shape"
                default: got = "\(e)"
                }
                XCTAssertEqual(got, kind, e.message, file: file, line: line)
                XCTAssertTrue(e.message.contains(path) || e.message.contains(NiftiPaths.resolve(path).data), e.message, file: file, line: line)
                XCTAssertTrue(e.message.contains(fragment), "'\(e.message)' lacks '\(fragment)'", file: file, line: line)
                XCTAssertFalse(e.message.contains("\n"), file: file, line: line)
            }
        }
    }

    func testValidBaseFilesRead() throws {
        XCTAssertEqual(try Nifti.readImage(try save(validFile(), "ok.nii")).shape, Shape3(5, 4, 3))
        XCTAssertEqual(try Nifti.readImage(try save(validFile(version: 2), "ok2.nii")).shape, Shape3(5, 4, 3))
        XCTAssertEqual(try Nifti.readImage(try save(validFile(), "ok.nii.gz", gzip: true)).shape, Shape3(5, 4, 3))
    }

    /// gzip files made of several members (bgzip, concatenated streams) and files with
    /// more bytes than the header needs are read like any other.
    func testMultiMemberGzipAndTrailingBytes() throws {
        let full = try validFile()
        let whole = try Nifti.readImage(try save(full, "whole.nii"))
        let a = try Data(contentsOf: URL(fileURLWithPath: try save(Array(full.prefix(200)), "a.nii", gzip: true)))
        let b = try Data(contentsOf: URL(fileURLWithPath: try save(Array(full.dropFirst(200)), "b.nii", gzip: true)))
        let multi = dir.appendingPathComponent("multi.nii.gz")
        try (a + b).write(to: multi)
        XCTAssertEqual(try Nifti.readImage(multi.path).voxels, whole.voxels)
        let trailing = try save(full + [UInt8](repeating: 9, count: 5000), "trailing.nii.gz", gzip: true)
        XCTAssertEqual(try Nifti.readImage(trailing).voxels, whole.voxels)
        XCTAssertEqual(try Nifti.readImage(try save(full + [1, 2, 3], "trailing.nii")).voxels, whole.voxels)
        // Zero padding after the last member.
        let padded = dir.appendingPathComponent("padded.nii.gz")
        try (a + b + Data(count: 64)).write(to: padded)
        XCTAssertEqual(try Nifti.readImage(padded.path).voxels, whole.voxels)
    }

    /// Compression is detected from the content, not the name.
    func testMisnamedCompressionStillReads() throws {
        let full = try validFile()
        let want = try Nifti.readImage(try save(full, "plain.nii")).voxels
        XCTAssertEqual(try Nifti.readImage(try save(full, "raw-named.nii.gz")).voxels, want)
        let gz = try Data(contentsOf: URL(fileURLWithPath: try save(full, "real.nii.gz", gzip: true)))
        let misnamed = dir.appendingPathComponent("gz-named.nii")
        try gz.write(to: misnamed)
        XCTAssertEqual(try Nifti.readImage(misnamed.path).voxels, want)
        XCTAssertEqual(try Nifti.readHeader(misnamed.path).compressed, true)
    }

    func testWriteNeedsAKnownExtension() throws {
        let v = ImageVolume(shape: Shape3(2, 2, 2), geometry: Geometry(), repeating: 1)
        for name in ["out", "out.nii.bz2", "out.txt"] {
            XCTAssertThrowsError(try Nifti.write(v, to: dir.appendingPathComponent(name).path)) { e in
                guard case CMFError.invalidArgument(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.contains("unknown extension"), m)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testMissingFileAndDirectory() throws {
        assertFails(dir.appendingPathComponent("missing.nii.gz").path, "io", "No such file")
        assertFails(dir.path, "io", "is a directory")
        let sub = dir.appendingPathComponent("sub.nii")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        assertFails(sub.path, "io", "is a directory")
        // A pair whose .img is missing.
        let hdr = try save(Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("nifti/n1_pair_int16.hdr")))), "lonely.hdr")
        assertFails(hdr, "io", "lonely.img")
    }

    func testEmptyGarbageAndTruncatedHeaders() throws {
        assertFails(try save([], "empty.nii"), "format", "empty file")
        assertFails(try save([], "empty.nii.gz"), "format", "empty file")
        assertFails(try save(Array("hello world, not an image".utf8), "text.nii"), "format", "not a NIfTI file")
        var rng = SystemRandomNumberGenerator()
        let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        assertFails(try save(garbage, "garbage.nii"), "format", "not a NIfTI file")
        assertFails(try save(garbage, "garbage.nii.gz", gzip: true), "format", "not a NIfTI file")
        assertFails(try save(Array(try validFile().prefix(200)), "short.nii"), "format", "truncated header")
        assertFails(try save(Array(try validFile(version: 2).prefix(400)), "short2.nii"), "format", "truncated header")
        // A .nii.gz cut in the middle of the gzip stream: the header is fine, the data are not.
        let good = try Data(contentsOf: URL(fileURLWithPath: try save(validFile(), "full.nii.gz", gzip: true)))
        let cutPath = dir.appendingPathComponent("cut.nii.gz").path
        try good.prefix(good.count - 30).write(to: URL(fileURLWithPath: cutPath))
        assertFails(cutPath, "format", "truncated")
        // Garbage after a valid gzip header.
        var corrupt = Array(good)
        for i in 40..<corrupt.count - 8 { corrupt[i] = UInt8(truncatingIfNeeded: i &* 131) }
        assertFails(try save(corrupt, "corrupt.nii.gz"), "format", "cannot read")
    }

    func testTruncatedVoxelData() throws {
        let full = try validFile()
        let path = try save(Array(full.prefix(full.count - 10)), "trunc.nii")
        assertFails(path, "format", "truncated (expected 120 bytes of voxel data, found 110)")
        assertFails(try save(Array(full.prefix(full.count - 10)), "trunc.nii.gz", gzip: true), "format",
                    "truncated (expected 120 bytes of voxel data, found 110)")
        // The header promises a big image the gzip file cannot hold: refused before inflating.
        var big = full
        put(&big, 42, Int16(16000)); put(&big, 44, Int16(16000)); put(&big, 46, Int16(8))
        assertFails(try save(big, "big.nii.gz", gzip: true), "format", "truncated (expected 4096000000 bytes of voxel data, found 120)")
        assertFails(try save(big, "big.nii"), "format", "truncated (expected 4096000000 bytes")
    }

    func testGzipChecksumMismatchIsCorruptNotSilentlyRead() throws {
        let path = try save(try validFile(), "crc.nii.gz", gzip: true)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 8] ^= 0xFF   // the member's CRC-32 (8 bytes from the end, before ISIZE)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertFails(path, "format", "the gzip stream is corrupt")
        // larger: the header inflates fine, the voxels' member fails its checksum; with
        // exactly the promised bytes, and with more than promised
        var big = try validFile()
        put(&big, 42, Int16(50)); put(&big, 44, Int16(40)); put(&big, 46, Int16(30))
        big = Array(big.prefix(352)) + [UInt8](repeating: 7, count: 50 * 40 * 30 * 2)
        for (name, bytes) in [("crc-exact.nii.gz", big), ("crc-more.nii.gz", big + [1, 2, 3])] {
            let bigPath = try save(bytes, name, gzip: true)
            XCTAssertEqual(try Nifti.readImage(bigPath).voxels.first, 1799)   // intact: reads
            var b = Array(try Data(contentsOf: URL(fileURLWithPath: bigPath)))
            b[b.count - 8] ^= 0xFF
            try Data(b).write(to: URL(fileURLWithPath: bigPath))
            XCTAssertNoThrow(try Nifti.readHeader(bigPath))
            assertFails(bigPath, "format", "the gzip stream is corrupt")
        }
    }

    /// A 2.2 MB gzip file whose header promises 2 GiB: deflate's ratio allows it, so the
    /// reader counts the real size (a small scratch buffer) and refuses before allocating.
    func testHugePromiseInLargeGzipIsCountedBeforeAllocating() throws {
        // above the default voxel cap: lift it, so that the counting itself is exercised
        ResourceLimits.setProcessDefault(ResourceLimits(maxVoxels: 1 << 31, maxBytes: 1 << 45))
        defer { ResourceLimits.setProcessDefault(nil) }
        var b = try validFile()
        put(&b, 42, Int16(2048)); put(&b, 44, Int16(1024)); put(&b, 46, Int16(128)); put(&b, 70, Int16(64)); put(&b, 72, Int16(64))
        let urandom = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        let noise = Array(urandom.readData(ofLength: 2_200_000))
        try urandom.close()
        let path = try save(Array(b.prefix(352)) + noise, "promise.nii.gz", gzip: true)
        assertFails(path, "format", "truncated (expected 2147483648 bytes of voxel data, found 2200000)")
    }

    func testImpossibleDims() throws {
        for (name, edit): (String, (inout [UInt8]) -> Void) in [
            ("zero", { self.put(&$0, 42, Int16(0)) }),
            ("negative", { self.put(&$0, 44, Int16(-5)) }),
        ] {
            var b = try validFile(); edit(&b)
            assertFails(try save(b, "dims-\(name).nii"), "format", "impossible dims")
        }
        var b = try validFile(); put(&b, 40, Int16(9))
        assertFails(try save(b, "dim0.nii"), "format", "impossible dim[0]")
        b = try validFile(); put(&b, 42, Int16(30000))
        assertFails(try save(b, "huge-axis.nii"), "format", "exceed the limit of 16384 per axis")
        b = try validFile(); put(&b, 42, Int16(16000)); put(&b, 44, Int16(16000)); put(&b, 46, Int16(16000))
        assertFails(try save(b, "huge-total.nii"), "format", "voxels")
        // NIfTI-2: 64-bit dims.
        var b2 = try validFile(version: 2); put(&b2, 24, Int64(1) << 40)
        assertFails(try save(b2, "huge2.nii"), "format", "exceed the limit")
        b2 = try validFile(version: 2); put(&b2, 32, Int64(-3))
        assertFails(try save(b2, "neg2.nii"), "format", "impossible dims")
    }

    func testFourDAndTwoD() throws {
        var b = try validFile(); put(&b, 40, Int16(4)); put(&b, 48, Int16(3))
        assertFails(try save(b, "4d.nii"), "shape", "4-D image")
        b = try validFile(); put(&b, 40, Int16(4)); put(&b, 48, Int16(1))
        XCTAssertEqual(try Nifti.readImage(try save(b, "4d-nt1.nii")).shape, Shape3(5, 4, 3))
        b = try validFile(); put(&b, 40, Int16(2))
        assertFails(try save(b, "2d.nii"), "shape", "2-D image")
    }

    func testUnsupportedDatatypes() throws {
        for (code, name) in [(Int16(32), "complex64"), (128, "rgb24"), (1536, "float128"), (0, "unknown"), (77, "77")] {
            var b = try validFile(); put(&b, 70, code)
            assertFails(try save(b, "dt\(code).nii"), "format", "unsupported datatype \(name == "77" ? "77" : "\(code) (\(name))")")
        }
    }

    func testBadVoxOffset() throws {
        for (name, value): (String, Float) in [("small", 100), ("negative", -352), ("fraction", 352.5), ("nan", .nan), ("huge", 1e30)] {
            var b = try validFile(); putFloat(&b, 108, value)
            assertFails(try save(b, "off-\(name).nii"), "format", "vox_offset")
        }
        // An offset past the end of the file: the data cannot be there.
        var b = try validFile(); putFloat(&b, 108, 100_000)
        assertFails(try save(b, "off-past.nii"), "format", "truncated (expected 120 bytes of voxel data, found 0)")
        var b2 = try validFile(version: 2); put(&b2, 168, Int64(-1))
        assertFails(try save(b2, "off2.nii"), "format", "vox_offset")
    }

    func testNonPositiveOrNonFiniteSpacing() throws {
        for (i, value): (Int, Float) in [(1, 0), (2, -1), (3, .nan), (1, .infinity)] {
            var b = try validFile(); putFloat(&b, 76 + 4 * i, value)
            assertFails(try save(b, "pixdim\(i)-\(value).nii"), "format", "pixdim[\(i)]")
        }
        var b2 = try validFile(version: 2); putDouble(&b2, 112, -2)
        assertFails(try save(b2, "pixdim2.nii"), "format", "pixdim[1]")
    }

    func testBadMagicAndAnalyze() throws {
        var b = try validFile(); b[344] = UInt8(ascii: "x")
        assertFails(try save(b, "magic.nii"), "format", "bad NIfTI-1 magic")
        b = try validFile(); for i in 344..<348 { b[i] = 0 }
        assertFails(try save(b, "analyze.nii"), "format", "ANALYZE 7.5")
        var b2 = try validFile(version: 2); b2[8] = 0
        assertFails(try save(b2, "magic2.nii"), "format", "bad NIfTI-2 magic")
        // A pair header given as a single file.
        b = try validFile(); b[345] = UInt8(ascii: "i")
        assertFails(try save(b, "pairmagic.nii"), "format", "separate .img")
    }

    func testNonFiniteSform() throws {
        var b = try validFile(); putFloat(&b, 280, .nan)
        assertFails(try save(b, "sform-nan.nii"), "format", "sform has non-finite")
    }

    func testUnwritableOutputLeavesNothingBehind() throws {
        let v = ImageVolume(shape: Shape3(2, 2, 2), geometry: Geometry(), repeating: 1)
        let missingDir = dir.appendingPathComponent("nope/out.nii.gz").path
        XCTAssertThrowsError(try Nifti.write(v, to: missingDir)) { e in
            guard case CMFError.io(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains(missingDir), m)
        }
        // A read-only directory (skipped when running as root, which ignores permissions).
        let ro = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: ro.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: ro.path) }
        if geteuid() != 0 {
            XCTAssertThrowsError(try Nifti.write(v, to: ro.appendingPathComponent("x.nii").path))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ro.path), [])
        }
        // A directory in the way of the output name.
        let blocker = dir.appendingPathComponent("blocked.nii")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Nifti.write(v, to: blocker.path)) { e in
            XCTAssertTrue("\(e)".contains("is a directory"), "\(e)")
        }
        // Device nodes are never replaced (a symlink named .nii pointing at /dev/null).
        let device = dir.appendingPathComponent("device.nii").path
        try FileManager.default.createSymbolicLink(atPath: device, withDestinationPath: "/dev/null")
        XCTAssertThrowsError(try Nifti.write(v, to: device)) { e in
            XCTAssertTrue("\(e)".contains("not a regular file"), "\(e)")
        }
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: device), "/dev/null")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType, .typeCharacterSpecial)
        try FileManager.default.removeItem(atPath: device)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    /// A write that fails half-way (file size limit, as on a full disk) is an error and
    /// leaves neither the output nor the temporary file.
    func testWriteFailingMidwayLeavesNothing() throws {
        let v = ImageVolume(shape: Shape3(40, 40, 40), geometry: Geometry(), repeating: 1)
        let out = dir.appendingPathComponent("big.nii").path
        var old = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var small = old
        small.rlim_cur = 10_000
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small), 0)
        XCTAssertThrowsError(try Nifti.write(v, to: out)) { e in
            guard case CMFError.io(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains(out), m)
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old)
        signal(SIGXFSZ, oldHandler)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        try Nifti.write(v, to: out)
        XCTAssertEqual(try Nifti.readImage(out).voxels, v.voxels)
    }

    func testWriteRejectsInconsistentVolumes() throws {
        var v = ImageVolume(shape: Shape3(2, 2, 2), geometry: Geometry(), repeating: 1)
        v.voxels.removeLast()
        XCTAssertThrowsError(try Nifti.write(v, to: dir.appendingPathComponent("a.nii").path)) { e in
            guard case CMFError.invalidArgument = e else { return XCTFail("\(e)") }
        }
        var w = ImageVolume(shape: Shape3(2, 2, 2), geometry: Geometry(), repeating: 1)
        w.geometry.spacing.y = -1
        XCTAssertThrowsError(try Nifti.write(w, to: dir.appendingPathComponent("b.nii").path))
        w = ImageVolume(shape: Shape3(2, 2, 2), geometry: Geometry(), repeating: 1)
        w.geometry.sform[3] = .nan
        XCTAssertThrowsError(try Nifti.write(w, to: dir.appendingPathComponent("c.nii").path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testBigEndianHeaderWithBadDimsIsStillFormatError() throws {
        // A big-endian fixture with its dims edited (big-endian bytes).
        var b = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("nifti/bigendian_int16.nii"))))
        b[42] = 0xFF; b[43] = 0xFF  // dim[1] = -1
        assertFails(try save(b, "be.nii"), "format", "impossible dims")
    }
}
