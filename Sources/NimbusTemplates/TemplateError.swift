/// The one error type of this module: every failure to load or render a template.
public struct TemplateError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The source is not valid Jinja (unclosed tag, bad expression).
        case syntax
        /// Valid Jinja that this interpreter does not implement (e.g. `{% include %}`, an unknown filter).
        /// Raised at load time so a template never renders a silently wrong prompt.
        case unsupported
        /// A failure while rendering: type error, undefined variable used where jinja2 would fail.
        case render
        /// The template called `raise_exception(message)`; `message` is exactly what it passed.
        case raised
    }

    public let kind: Kind
    public let message: String
    /// 1-based line in the template source, when known.
    public let line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String {
        let prefix: String
        switch kind {
        case .syntax: prefix = "template syntax error"
        case .unsupported: prefix = "unsupported template construct"
        case .render: prefix = "template render error"
        case .raised: prefix = "template raised an exception"
        }
        if let line { return "\(prefix) (line \(line)): \(message)" }
        return "\(prefix): \(message)"
    }

    /// Returns a copy that carries `line` unless a line is already known.
    func at(line newLine: Int) -> TemplateError {
        line == nil ? TemplateError(kind, message, line: newLine) : self
    }
}
