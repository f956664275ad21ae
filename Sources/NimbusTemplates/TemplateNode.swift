/// The parsed template: statements (`Node`) and expressions (`Expr`).
/// Everything here is immutable and `Sendable`, so one parsed `ChatTemplate` can render on many threads.

/// A constant written in the template source.
enum Literal: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

indirect enum Expr: Sendable {
    case literal(Literal)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    /// `a.b` — jinja2 tries the attribute (e.g. a dict method) before the item.
    case attribute(Expr, String)
    /// `a[b]` — jinja2 tries the item before the attribute.
    case item(Expr, Expr)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
    case call(Expr, Arguments)
    case filter(Expr, name: String, Arguments)
    case test(Expr, name: String, Arguments, negated: Bool)
    case negate(Expr)
    case plus(Expr)
    case not(Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case binary(BinaryOp, Expr, Expr)
    /// A chain such as `a < b <= c`, evaluated pairwise like Python.
    case compare(Expr, [(CompareOp, Expr)])
    /// `a ~ b ~ c`: string concatenation of `str()` of each operand.
    case concat([Expr])
    /// `then if condition else otherwise`; a missing else yields undefined.
    case conditional(condition: Expr, then: Expr, otherwise: Expr?)
}

struct Arguments: Sendable {
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
}

enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", floorDiv = "//", mod = "%", pow = "**"
}

enum CompareOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", `in` = "in", notIn = "not in"
}

/// The left-hand side of `set` or a `for` loop.
indirect enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    /// `ns.attr` — only valid for `set` on a `namespace()`.
    case attribute(String, String)
}

struct IfBranch: Sendable {
    let condition: Expr
    let body: [Node]
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Node]
    /// Whether the body mentions `varargs` / `kwargs`; jinja2 rejects extra arguments otherwise.
    let catchesVarargs: Bool
    let catchesKwargs: Bool
}

indirect enum Node: Sendable {
    case text(String)
    case output(Expr, line: Int)
    case ifBlock([IfBranch], otherwise: [Node], line: Int)
    case forLoop(target: AssignTarget, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], line: Int)
    case set(AssignTarget, Expr, line: Int)
    /// `{% set x %}...{% endset %}`: captures the rendered body as a string.
    case setBlock(String, body: [Node], line: Int)
    case macro(MacroDefinition, line: Int)
    /// `{% filter name %}...{% endfilter %}`: renders the body and applies filters to it.
    case filterBlock(filters: [(String, Arguments)], body: [Node], line: Int)
    /// `{% with a = 1 %}...{% endwith %}`: a nested scope.
    case with(assignments: [(AssignTarget, Expr)], body: [Node], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
