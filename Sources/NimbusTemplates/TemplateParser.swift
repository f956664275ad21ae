/// Recursive-descent parser mirroring `jinja2/parser.py`, so operator precedence and the places
/// where filters, tests and conditional expressions bind are the same as in Python.
///
/// Anything jinja2 accepts but this interpreter cannot run (e.g. `{% include %}`, an unknown
/// filter) fails here with `.unsupported`, naming the construct and line.
struct TemplateParser {
    private let tokens: [Token]
    private var index = 0

    init(tokens: [Token]) {
        self.tokens = tokens
    }

    static func parse(_ source: String) throws -> [Node] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(source))
        let body = try parser.parseBody(until: [])
        guard case .eof = parser.current.kind else {
            throw parser.syntaxError("unexpected tag")
        }
        return body
    }

    // MARK: - Token helpers

    private var current: Token { tokens[min(index, tokens.count - 1)] }
    private func look(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }
    private mutating func next() { if index < tokens.count - 1 { index += 1 } }

    private func syntaxError(_ message: String, line: Int? = nil) -> TemplateError {
        TemplateError(.syntax, message, line: line ?? current.line)
    }

    private func unsupported(_ message: String, line: Int? = nil) -> TemplateError {
        TemplateError(.unsupported, message, line: line ?? current.line)
    }

    private func isOp(_ op: String, _ token: Token? = nil) -> Bool {
        if case .op(let o) = (token ?? current).kind { return o == op }
        return false
    }

    private func isName(_ name: String, _ token: Token? = nil) -> Bool {
        if case .name(let n) = (token ?? current).kind { return n == name }
        return false
    }

    private mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        next()
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        next()
        return true
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw syntaxError("expected '\(op)', got \(describe(current))") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw syntaxError("expected a name, got \(describe(current))") }
        next()
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else { throw syntaxError("expected end of statement block, got \(describe(current))") }
        next()
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .data: return "template data"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "end of statement block"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "end of print statement"
        case .name(let n): return "'\(n)'"
        case .string: return "string"
        case .integer(let i): return "'\(i)'"
        case .float(let d): return "'\(d)'"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    // MARK: - Statements

    /// Parses nodes until a `{% name %}` whose name is in `endNames`; leaves the cursor on that name.
    private mutating func parseBody(until endNames: Set<String>) throws -> [Node] {
        var body: [Node] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let s):
                body.append(.text(s))
                next()
            case .variableBegin:
                next()
                let expr = try parseTuple()
                guard case .variableEnd = current.kind else { throw syntaxError("expected end of print statement, got \(describe(current))") }
                next()
                body.append(.output(expr, line: token.line))
            case .blockBegin:
                next()
                if case .name(let n) = current.kind, endNames.contains(n) { return body }
                body.append(contentsOf: try parseStatement())
                try expectBlockEnd()
            case .eof:
                if !endNames.isEmpty {
                    let expected = endNames.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw syntaxError("unexpected end of template, expected \(expected)")
                }
                return body
            default:
                throw syntaxError("unexpected \(describe(token))")
            }
        }
    }

    /// Parses the body of a block statement: closes the opening tag, reads until an end name.
    private mutating func parseStatements(until endNames: Set<String>, dropNeedle: Bool = false) throws -> [Node] {
        _ = skipOp(":")
        try expectBlockEnd()
        let body = try parseBody(until: endNames)
        if dropNeedle { next() }
        return body
    }

    private static let unsupportedTags: Set<String> = [
        "block", "extends", "include", "import", "from", "call", "do", "autoescape", "trans", "pluralize", "print", "endblock",
    ]

    private mutating func parseStatement() throws -> [Node] {
        let line = current.line
        guard case .name(let keyword) = current.kind else { throw syntaxError("tag name expected") }
        switch keyword {
        case "for": return [try parseFor()]
        case "if": return [try parseIf()]
        case "set": return [try parseSet()]
        case "macro": return [try parseMacro()]
        case "filter": return [try parseFilterBlock()]
        case "with": return [try parseWith()]
        case "break":
            next()
            return [.breakLoop(line: line)]
        case "continue":
            next()
            return [.continueLoop(line: line)]
        case "generation":
            // transformers' AssistantTracker tag: renders its body unchanged (the mask is not needed here).
            next()
            return try parseStatements(until: ["endgeneration"], dropNeedle: true)
        default:
            if Self.unsupportedTags.contains(keyword) {
                throw unsupported("the '{% \(keyword) %}' tag is not supported", line: line)
            }
            throw syntaxError("Encountered unknown tag '\(keyword)'", line: line)
        }
    }

    private mutating func parseFor() throws -> Node {
        let line = current.line
        next()
        let target = try parseAssignTarget(allowNamespace: false, endNames: ["in"])
        guard skipName("in") else { throw syntaxError("expected 'in', got \(describe(current))") }
        let iterable = try parseTuple(withCondition: false, endNames: ["recursive", "if"])
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression() }
        if isName("recursive") { throw unsupported("recursive for loops are not supported") }
        let body = try parseStatements(until: ["endfor", "else"])
        var otherwise: [Node] = []
        if isName("else") {
            next()
            otherwise = try parseStatements(until: ["endfor"], dropNeedle: true)
        } else {
            next()
        }
        return .forLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line)
    }

    private mutating func parseIf() throws -> Node {
        let line = current.line
        next()
        var branches: [IfBranch] = []
        var otherwise: [Node] = []
        while true {
            let condition = try parseTuple(withCondition: false)
            let body = try parseStatements(until: ["elif", "else", "endif"])
            branches.append(IfBranch(condition: condition, body: body))
            if isName("elif") {
                next()
                continue
            }
            if isName("else") {
                next()
                otherwise = try parseStatements(until: ["endif"], dropNeedle: true)
            } else {
                next()
            }
            break
        }
        return .ifBlock(branches, otherwise: otherwise, line: line)
    }

    private mutating func parseSet() throws -> Node {
        let line = current.line
        next()
        let target = try parseAssignTarget(allowNamespace: true, endNames: [])
        if skipOp("=") {
            return .set(target, try parseTuple(), line: line)
        }
        guard case .name(let name) = target else { throw syntaxError("block set needs a single name") }
        if isOp("|") { throw unsupported("filters on block set ('{% set x | filter %}') are not supported") }
        let body = try parseStatements(until: ["endset"], dropNeedle: true)
        return .setBlock(name, body: body, line: line)
    }

    private mutating func parseMacro() throws -> Node {
        let line = current.line
        next()
        let name = try expectName()
        try expectOp("(")
        var params: [(name: String, defaultValue: Expr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let param = try expectName()
            var defaultValue: Expr? = nil
            if skipOp("=") { defaultValue = try parseExpression() }
            else if params.contains(where: { $0.defaultValue != nil }) {
                throw syntaxError("non-default argument follows default argument")
            }
            params.append((param, defaultValue))
        }
        next()
        let bodyStart = index
        let body = try parseStatements(until: ["endmacro"], dropNeedle: true)
        let bodyTokens = tokens[bodyStart..<index]
        let mentions = { (n: String) in bodyTokens.contains { $0.kind == .name(n) } }
        let definition = MacroDefinition(
            name: name, parameters: params, body: body,
            catchesVarargs: mentions("varargs"), catchesKwargs: mentions("kwargs"))
        return .macro(definition, line: line)
    }

    private mutating func parseFilterBlock() throws -> Node {
        let line = current.line
        next()
        var filters: [(String, Arguments)] = []
        repeat {
            filters.append(try parseFilterCall())
        } while skipOp("|")
        let body = try parseStatements(until: ["endfilter"], dropNeedle: true)
        return .filterBlock(filters: filters, body: body, line: line)
    }

    private mutating func parseWith() throws -> Node {
        let line = current.line
        next()
        var assignments: [(AssignTarget, Expr)] = []
        while case .name = current.kind {
            let target = try parseAssignTarget(allowNamespace: false, endNames: [])
            try expectOp("=")
            assignments.append((target, try parseExpression()))
            if !isOp(",") { break }
            next()
        }
        let body = try parseStatements(until: ["endwith"], dropNeedle: true)
        return .with(assignments: assignments, body: body, line: line)
    }

    /// `name`, `a, b`, `(a, b)` or (for set) `ns.attr`.
    private mutating func parseAssignTarget(allowNamespace: Bool, endNames: Set<String>) throws -> AssignTarget {
        if allowNamespace, case .name(let ns) = current.kind, isOp(".", look()) {
            next()
            next()
            return .attribute(ns, try expectName())
        }
        var items: [AssignTarget] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard skipOp(",") else { break }
                sawComma = true
            }
            if case .name(let n) = current.kind, endNames.contains(n) { break }
            if case .blockEnd = current.kind { break }
            if isOp("=") { break }
            if skipOp("(") {
                let inner = try parseAssignTarget(allowNamespace: false, endNames: [])
                try expectOp(")")
                items.append(inner)
            } else {
                let name = try expectName()
                if ["true", "false", "none", "True", "False", "None"].contains(name) {
                    throw syntaxError("can't assign to '\(name)'")
                }
                items.append(.name(name))
            }
        }
        guard let first = items.first else { throw syntaxError("expected an assignment target") }
        return (items.count == 1 && !sawComma) ? first : .tuple(items)
    }

    // MARK: - Expressions

    /// jinja2's `parse_tuple`: one expression, or a tuple when commas separate several.
    private mutating func parseTuple(withCondition: Bool = true, endNames: Set<String> = [], explicitParens: Bool = false) throws -> Expr {
        var items: [Expr] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard skipOp(",") else { break }
                sawComma = true
            }
            if isTupleEnd(endNames) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
        }
        if !sawComma {
            if let only = items.first { return only }
            if !explicitParens { throw syntaxError("Expected an expression, got \(describe(current))") }
        }
        return .tuple(items)
    }

    private func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(let o): return o == ")" || o == "="
        case .name(let n): return endNames.contains(n)
        default: return false
        }
    }

    private mutating func parseExpression() throws -> Expr {
        try parseConditional()
    }

    private mutating func parseConditional() throws -> Expr {
        var expr = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            var otherwise: Expr? = nil
            if skipName("else") { otherwise = try parseConditional() }
            expr = .conditional(condition: condition, then: expr, otherwise: otherwise)
        }
        return expr
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if skipName("not") { return .not(try parseNot()) }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let first = try parseMath1()
        var ops: [(CompareOp, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CompareOp(rawValue: o), op != .in, op != .notIn {
                next()
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append((.in, try parseMath1()))
            } else if isName("not"), isName("in", look()) {
                next()
                next()
                ops.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while true {
            if skipOp("+") { left = .binary(.add, left, try parseConcat()) }
            else if skipOp("-") { left = .binary(.sub, left, try parseConcat()) }
            else { return left }
        }
    }

    private mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while true {
            if skipOp("*") { left = .binary(.mul, left, try parsePow()) }
            else if skipOp("/") { left = .binary(.div, left, try parsePow()) }
            else if skipOp("//") { left = .binary(.floorDiv, left, try parsePow()) }
            else if isOp("%") {
                if case .literal(.string) = left {
                    throw unsupported("printf-style string formatting ('...' % value) is not supported")
                }
                next()
                left = .binary(.mod, left, try parsePow())
            }
            else { return left }
        }
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        while skipOp("**") { left = .binary(.pow, left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        var node: Expr
        if skipOp("-") { node = .negate(try parseUnary(withFilter: false)) }
        else if skipOp("+") { node = .plus(try parseUnary(withFilter: false)) }
        else { node = try parsePrimary() }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .name(let n):
            next()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .string(let s):
            // Adjacent string literals concatenate, as in Python.
            var value = s
            next()
            while case .string(let more) = current.kind {
                value += more
                next()
            }
            return .literal(.string(value))
        case .integer(let i):
            next()
            return .literal(.int(i))
        case .float(let d):
            next()
            return .literal(.double(d))
        case .op("("):
            next()
            let expr = try parseTuple(explicitParens: true)
            try expectOp(")")
            return expr
        case .op("["):
            next()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            next()
            return .list(items)
        case .op("{"):
            next()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            next()
            return .dict(pairs)
        default:
            throw syntaxError("unexpected \(describe(token))")
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp(".") || isOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    private mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if skipOp("|") {
                let (name, args) = try parseFilterCall()
                node = .filter(node, name: name, args)
            } else if isName("is") {
                node = try parseTest(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    private mutating func parseFilterCall() throws -> (String, Arguments) {
        let line = current.line
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        guard TemplateFilters.supported.contains(name) else {
            throw unsupported("filter '\(name)' is not supported", line: line)
        }
        let args = isOp("(") ? try parseCallArguments() : Arguments()
        return (name, args)
    }

    private mutating func parseTest(_ node: Expr) throws -> Expr {
        next()  // 'is'
        let line = current.line
        let negated = skipName("not")
        var name: String
        // `is none`, `is true`, `is false` arrive as names too.
        name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        guard TemplateTests.supported.contains(name) else {
            throw unsupported("test '\(name)' is not supported", line: line)
        }
        var args = Arguments()
        if isOp("(") {
            args = try parseCallArguments()
        } else if startsPrimary(current), !isName("else"), !isName("or"), !isName("and") {
            if isName("is") { throw syntaxError("You cannot chain multiple tests with is") }
            args.positional = [try parsePostfix(try parsePrimary())]
        }
        return .test(node, name: name, args, negated: negated)
    }

    private func startsPrimary(_ token: Token) -> Bool {
        switch token.kind {
        case .name, .string, .integer, .float: return true
        case .op(let o): return o == "(" || o == "[" || o == "{"
        default: return false
        }
    }

    private mutating func parseSubscript(_ node: Expr) throws -> Expr {
        if skipOp(".") {
            switch current.kind {
            case .name(let n):
                next()
                return .attribute(node, n)
            case .integer(let i):
                next()
                return .item(node, .literal(.int(i)))
            default:
                throw syntaxError("expected name or number")
            }
        }
        try expectOp("[")
        var args: [Expr] = []
        while !isOp("]") {
            if !args.isEmpty { try expectOp(",") }
            args.append(try parseSubscribed(node))
        }
        next()
        guard args.count == 1 else { return .item(node, .tuple(args)) }
        if case .slice = args[0] { return args[0] }
        return .item(node, args[0])
    }

    /// One subscript: an expression or a `start:stop:step` slice (returned as `.slice` of `node`).
    private mutating func parseSubscribed(_ node: Expr) throws -> Expr {
        var start: Expr? = nil
        if !isOp(":") {
            let expr = try parseExpression()
            if !isOp(":") { return expr }
            start = expr
        }
        next()  // ':'
        var stop: Expr? = nil
        if !isOp(":"), !isOp("]"), !isOp(",") { stop = try parseExpression() }
        var step: Expr? = nil
        if skipOp(":"), !isOp("]"), !isOp(",") { step = try parseExpression() }
        return .slice(node, start: start, stop: stop, step: step)
    }

    private mutating func parseCallArguments() throws -> Arguments {
        try expectOp("(")
        var args = Arguments()
        while !isOp(")") {
            if !args.positional.isEmpty || !args.keyword.isEmpty {
                try expectOp(",")
                if isOp(")") { break }
            }
            if isOp("*") || isOp("**") { throw unsupported("*args / **kwargs in calls are not supported") }
            if case .name(let key) = current.kind, isOp("=", look()) {
                next()
                next()
                args.keyword.append((key, try parseExpression()))
            } else {
                if !args.keyword.isEmpty { throw syntaxError("invalid syntax for function call expression") }
                args.positional.append(try parseExpression())
            }
        }
        next()
        return args
    }
}
