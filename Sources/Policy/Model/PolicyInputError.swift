/// A value a person or an importer gave that the policy cannot take. `field` names what was
/// wrong (a list entry, a CIDR, a schedule window, a template) so the message can say where.
public struct PolicyInputError: Error, Sendable, CustomStringConvertible, Equatable {
    public let field: String
    public let value: String
    public let problem: String

    public init(field: String, value: String, problem: String) {
        self.field = field
        self.value = value
        self.problem = problem
    }

    public var description: String { "\(self.field) '\(self.value)': \(self.problem)" }
}
