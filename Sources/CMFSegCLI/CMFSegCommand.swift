import ArgumentParser
import CMFSeg

@main
struct CMFSegCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cmfseg",
        abstract: "Brain-tumour segmentation (CMFT + CMFF) and BraTS evaluation.",
        version: CMFSegVersion.string,
        subcommands: [PhantomCommand.self, PreviewCommand.self]
    )
}
