// swift-tools-version:6.0
// cmfseg: brain-tumour segmentation (CMFT + CMFF) and BraTS evaluation, as a C-ABI library.
//
// Table of contents
//   Public products
//     libcmfseg.so      the C ABI (`include/cmfseg.h`), implemented by CMFSegC
//     cmfseg-cli        the command-line tool (installed as `cmfseg` by CMake; SwiftPM
//                       forbids an executable product with the library's name)
//   Implementation
//     CMFSeg            the Swift core: volumes, NIfTI, tensors, models, inference, evaluation
//     CCMFKernels       C + OpenMP voxel kernels (LLVM libomp)
//     CNifti            nifticlib (Debian libnifti2-dev), a system library
//     CDeflate          libdeflate + zlib (Debian libdeflate-dev, zlib1g-dev): fast .nii.gz
//     CMFSegABI         the public header as a Clang module, so the exports are type-checked
//   Tests: one target per module, fixtures in Tests/Fixtures.
//   Fuzzing (CMFSEG_FUZZ=1 only): cmfseg-fuzz, libFuzzer targets (Tests/Fuzz/README.md).
import PackageDescription

// The Swift toolchain's clang does not search LLVM 14's resource dir, where Debian's libomp-dev puts omp.h.
let ompInclude = "/usr/lib/llvm-14/lib/clang/14.0.6/include"
// libomp.so (for linking) is only in LLVM 14's folder; at run time libomp.so.5 is found on the
// system path (Debian's libomp5-14 links it into /usr/lib/<triplet>), so no RUNPATH is needed.
let ompLib = "/usr/lib/llvm-14/lib"
let openMPLinker: [LinkerSetting] = [
    .unsafeFlags(["-L\(ompLib)"]),
    .linkedLibrary("omp"),
]

let package = Package(
    name: "cmfseg",
    products: [
        .library(name: "cmfseg", type: .dynamic, targets: ["CMFSegC"]),
        .executable(name: "cmfseg-cli", targets: ["CMFSegCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Public API
        .target(
            name: "CMFSegC",
            dependencies: ["CMFSeg", "CMFSegABI"],
            linkerSettings: openMPLinker
        ),
        .executableTarget(
            name: "CMFSegCLI",
            dependencies: ["CMFSeg", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: openMPLinker
        ),

        // Implementation
        .target(
            name: "CMFSeg",
            dependencies: ["CCMFKernels", "CNifti", "CDeflate"],
            exclude: ["Resources", "Phantom/README.md", "Phantom/phantom.png", "Weights/README.md",
                      "Tensor/PERFORMANCE.md", "Evaluate/README.md", "Train/README.md", "Train/Ablation"],
            swiftSettings: [.unsafeFlags(["-Xcc", "-I/usr/include/nifti"])],
            linkerSettings: openMPLinker
        ),
        .target(
            name: "CCMFKernels",
            cSettings: [
                .unsafeFlags(["-fopenmp", "-I\(ompInclude)", "-O3"]),
            ],
            // libdnnl (oneDNN 2.6, Debian libdnnl-dev): the fast convolution (conv_dnnl.c).
            linkerSettings: openMPLinker + [.linkedLibrary("dnnl")]
        ),
        .systemLibrary(name: "CNifti", path: "Sources/CNifti"),
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate"),
        .systemLibrary(name: "CMFSegABI", path: "Sources/CMFSegABI"),

        // Tests
        .target(name: "TestSupport", dependencies: ["CMFSeg"], path: "Tests/Support"),
        .testTarget(name: "CMFSegTests", dependencies: ["CMFSeg", "TestSupport"],
                    swiftSettings: [.unsafeFlags(["-Xcc", "-I/usr/include/nifti"])]),
        .testTarget(name: "CCMFKernelsTests", dependencies: ["CCMFKernels", "TestSupport"]),
        .testTarget(name: "CMFSegCTests", dependencies: ["CMFSegC", "CMFSegABI", "TestSupport"]),
        .testTarget(name: "CMFSegCLITests", dependencies: ["TestSupport"]),
    ]
)

// The fuzz driver links libFuzzer, so it builds only with `-sanitize=fuzzer` (Tests/Fuzz/run.sh
// sets CMFSEG_FUZZ=1 and the flags); ordinary builds never see it. lld, because gold fails
// on SwiftPM's `--defsym main=…` next to libFuzzer's own `main`.
if Context.environment["CMFSEG_FUZZ"] != nil {
    package.targets += [
        .systemLibrary(name: "CFuzzDriver", path: "Tests/Fuzz/CFuzzDriver"),
        .executableTarget(
            name: "cmfseg-fuzz",
            dependencies: ["CMFSeg", "CMFSegC", "CMFSegABI", "CFuzzDriver"],
            path: "Tests/Fuzz/Targets",
            linkerSettings: openMPLinker + [.unsafeFlags(["-use-ld=lld"])]
        ),
    ]
}
