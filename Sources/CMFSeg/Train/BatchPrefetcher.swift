import Dispatch

/// Prepares the samples of the next steps on a background thread while the current step
/// trains.
///
/// ``next()`` returns `sampler.batch(step: firstStep)`, then `firstStep + 1`, and so on —
/// identical to calling the sampler directly, only earlier. One thread, owned by the
/// prefetcher: ``stop()`` (or releasing the prefetcher) ends it and waits until it has exited.
/// After ``stop()``, ``next()`` keeps working by drawing on the calling thread.
///
/// Thread rule: one consumer — call ``next()`` from one thread at a time.
public final class BatchPrefetcher: @unchecked Sendable {
    private let sampler: PatchSampler
    private let state: State

    /// - Parameters:
    ///   - firstStep: the step whose sample ``next()`` returns first.
    ///   - depth: samples prepared ahead (≥ 1). One is enough when a sample takes less time
    ///     than a training step; each holds `channels · patch` floats.
    public init(sampler: PatchSampler, firstStep: Int, depth: Int = 1) {
        self.sampler = sampler
        state = State(nextStep: firstStep, depth: max(1, depth))
        let state = self.state
        // A queue of its own: the producer blocks for the prefetcher's life, so it must not
        // take a thread of a shared pool.
        DispatchQueue(label: "cmfseg batch prefetch").async {
            state.produce(sampler)
        }
    }

    deinit { stop() }

    /// The sample of the next step (waits while it is being prepared).
    public func next() -> TrainingBatch {
        state.take() ?? sampler.batch(step: state.claimStepAfterStop())
    }

    /// Ends the background thread and waits for it to exit; idempotent. Samples prepared but
    /// not taken are dropped (``next()`` redraws them).
    public func stop() { state.stop() }

    /// True while the background thread runs (for tests).
    var isRunning: Bool { state.isRunning }

    /// The queue between the producer thread and the consumer.
    private final class State: @unchecked Sendable {
        private let condition = Condition()
        private var ready: [TrainingBatch] = []
        /// Next step the producer draws.
        private var produceStep: Int
        /// Next step the consumer takes.
        private var consumeStep: Int
        private let depth: Int
        private var stopping = false
        private var running = true

        init(nextStep: Int, depth: Int) {
            produceStep = nextStep
            consumeStep = nextStep
            self.depth = depth
        }

        var isRunning: Bool {
            condition.lock(); defer { condition.unlock() }
            return running
        }

        /// The producer's loop.
        func produce(_ sampler: PatchSampler) {
            condition.lock()
            while true {
                while !stopping && ready.count >= depth { condition.wait() }
                if stopping { break }
                let step = produceStep
                condition.unlock()
                let b = sampler.batch(step: step)
                condition.lock()
                if stopping { break }
                ready.append(b)
                produceStep += 1
                condition.broadcast()
            }
            running = false
            condition.broadcast()
            condition.unlock()
        }

        /// The next prepared sample, waiting for it; nil once stopped.
        func take() -> TrainingBatch? {
            condition.lock(); defer { condition.unlock() }
            while !stopping && ready.isEmpty { condition.wait() }
            guard !stopping else { return nil }
            let b = ready.removeFirst()
            precondition(b.step == consumeStep, "prefetched step \(b.step), expected \(consumeStep)")
            consumeStep += 1
            condition.broadcast()
            return b
        }

        /// After stop: the step the consumer takes next, counted.
        func claimStepAfterStop() -> Int {
            condition.lock(); defer { condition.unlock() }
            consumeStep += 1
            return consumeStep - 1
        }

        func stop() {
            condition.lock(); defer { condition.unlock() }
            stopping = true
            ready.removeAll()
            condition.broadcast()
            while running { condition.wait() }
        }
    }
}
