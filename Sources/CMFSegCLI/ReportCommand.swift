import ArgumentParser
import CMFSeg

/// `cmfseg report`: the visual report of a segmented case as one HTML page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a one-page visual report of a segmented case (HTML: slices, scores, volumes, model).",
        discussion: """
        One self-contained HTML file (images inside, nothing fetched, no script): axial, \
        coronal and sagittal slices through the centre of mass of the whole tumour (of the \
        reference when given, else of the segmentation; the middle of the grid when neither \
        has tumour), each showing T1, T1ce, T2, FLAIR and FLAIR with the labels (NCR/NET \
        red, edema green, enhancing tumour yellow), the reference beside the segmentation. \
        Axial and coronal slices show the patient's right on the left (radiological), \
        sagittal ones anterior on the left; anterior or superior at the top.

        With --ref: the BraTS scores (Dice, HD95, sensitivity, specificity, lesion-wise), as \
        `cmfseg evaluate` computes them. Always: the volumes of WT, TC, ET and of each label \
        in cm³, from the voxel spacing. With --weights (the model the segmentation was made \
        with): the model's provenance from its metadata. Timings of the report itself.

        CASE_DIR holds NAME_{t1,t1ce,t2,flair}.nii.gz (BraTS and `cmfseg phantom` layout; \
        BraTS 2023 names and .nii accepted). The output is written atomically.
        """
    )

    @Option(name: .customLong("case"), help: "The case folder (its four contrasts).") var caseDir: String
    @Option(name: .long, help: "The segmentation (label map) to report on.") var seg: String
    @Option(name: .long, help: "Reference labels: adds the scores and draws the reference beside the segmentation.")
    var ref: String?
    @Option(name: .long, parsing: .upToNextOption, help: "Weight files of the model that made the segmentation: its provenance goes on the page.")
    var weights: [String] = []
    @Option(name: .long, help: "Label convention: brats2018 (1/2/4, default) or brats2023 (1/2/3).")
    var labels: LabelConvention = .brats2018
    @Option(name: .long, help: "Output HTML file.") var out: String

    func run() throws {
        let report = try CaseReport.write(caseDirectory: caseDir, segmentation: seg, reference: ref, weights: weights,
                                          options: EvaluationOptions(labels: labels), to: out)
        let c = report.centre
        print("\(out): report on \(report.input.name), slices through voxel (\(c.x), \(c.y), \(c.z))"
              + (report.scores == nil ? "" : ", scored against \(ref ?? "")"))
    }
}
