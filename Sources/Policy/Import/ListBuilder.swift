/// What one line (or one name of a hosts line) contributes to a list.
enum LineOutcome {
    /// A normalised entry.
    case value(String)
    /// Nothing: a comment, a header, a name hosts files always carry.
    case ignored
    /// A valid rule of a kind Portcullis does not use.
    case unsupported
    /// A line that cannot be used, and why.
    case problem(String)
}

/// Collects a list's entries, dropping duplicates, and its problems.
struct ListBuilder {
    private var list: ImportedList
    private var index: ValueIndex
    /// Values waiting to be added to the index as one batch.
    private var pending: [String] = []

    static let batchSize = 64

    init(file: ImportFile, expectedLines: Int) {
        self.list = ImportedList(file: file)
        self.list.values.reserveCapacity(expectedLines)
        self.index = ValueIndex(expectedCount: expectedLines)
        self.pending.reserveCapacity(Self.batchSize)
    }

    /// The list, once every line has been recorded.
    mutating func finish() -> ImportedList {
        self.flush()
        return self.list
    }

    private mutating func flush() {
        self.list.duplicates += self.index.append(self.pending, to: &self.list.values)
        self.pending.removeAll(keepingCapacity: true)
    }

    mutating func record(_ outcome: LineOutcome, line: ListLine) {
        switch outcome {
        case .value(let value):
            self.pending.append(value)
            if self.pending.count == Self.batchSize { self.flush() }
        case .ignored:
            break
        case .unsupported:
            self.list.unsupported += 1
        case .problem(let reason):
            self.list.problemCount += 1
            if self.list.problems.count < ImportedList.problemLimit {
                self.list.problems.append(
                    ImportProblem(file: self.list.source, line: line.number, text: line.text, reason: reason))
            }
        }
    }
}
