import Foundation

/// Tree-walking interpreter for the parsed template.
///
/// Scoping follows what jinja2's compiler produces: each for-loop iteration and each macro call
/// gets a fresh child scope (assignments inside do not leak out, and do not carry over to the next
/// iteration), while `if` blocks share their enclosing scope. `namespace()` objects are the only
/// way to carry state out of a loop, as in jinja2.
final class Scope {
    private var vars: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.vars[name] { return v }
            scope = s.parent
        }
        return nil
    }

    func set(_ name: String, _ value: Value) { vars[name] = value }
}

/// What a statement asks its enclosing loop to do.
enum Flow {
    case normal, breakLoop, continueLoop
}

/// Settings for one render that do not come from the template context.
struct RenderSettings {
    var strftime: (String) -> String
}

final class Evaluator {
    let settings: RenderSettings
    private var depth = 0

    init(settings: RenderSettings) {
        self.settings = settings
    }

    // MARK: - Statements

    func run(_ nodes: [Node], scope: Scope, into out: inout String) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, scope: scope, into: &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: Node, scope: Scope, into out: inout String) throws -> Flow {
        switch node {
        case .text(let s):
            out += s
        case .output(let expr, let line):
            try withLine(line) { out += try eval(expr, scope).pyStr }
        case .ifBlock(let branches, let otherwise, let line):
            for branch in branches {
                if try withLine(line, { try eval(branch.condition, scope).truthy }) {
                    return try run(branch.body, scope: scope, into: &out)
                }
            }
            return try run(otherwise, scope: scope, into: &out)
        case .forLoop(let target, let iterable, let filter, let body, let otherwise, let line):
            return try runFor(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line, scope: scope, into: &out)
        case .set(let target, let expr, let line):
            try withLine(line) { try assign(target, try eval(expr, scope), scope: scope) }
        case .setBlock(let name, let body, _):
            var captured = ""
            _ = try run(body, scope: scope, into: &captured)
            scope.set(name, .string(captured))
        case .macro(let definition, _):
            scope.set(definition.name, .callable(.macro(definition, scope)))
        case .filterBlock(let filters, let body, let line):
            var captured = ""
            _ = try run(body, scope: scope, into: &captured)
            var value = Value.string(captured)
            try withLine(line) {
                for (name, args) in filters {
                    value = try applyFilter(name, to: value, args, scope: scope)
                }
            }
            out += value.pyStr
        case .with(let assignments, let body, let line):
            let inner = Scope(parent: scope)
            try withLine(line) {
                for (target, expr) in assignments { try assign(target, try eval(expr, scope), scope: inner) }
            }
            return try run(body, scope: inner, into: &out)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// Runs `body`, attaching `line` to any error that does not already carry one.
    private func withLine<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TemplateError {
            throw error.at(line: line)
        }
    }

    private func runFor(
        target: AssignTarget, iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], line: Int,
        scope: Scope, into out: inout String
    ) throws -> Flow {
        var items = try withLine(line) { try iterate(try eval(iterable, scope)) }
        if let filter {
            items = try withLine(line) {
                try items.filter { item in
                    let probe = Scope(parent: scope)
                    try assign(target, item, scope: probe)
                    return try eval(filter, probe).truthy
                }
            }
        }
        if items.isEmpty { return try run(otherwise, scope: scope, into: &out) }
        let loop = LoopState(items: items)
        for (i, item) in items.enumerated() {
            loop.index0 = i
            let iterationScope = Scope(parent: scope)
            try withLine(line) { try assign(target, item, scope: iterationScope) }
            iterationScope.set("loop", .loop(loop))
            if try run(body, scope: iterationScope, into: &out) == .breakLoop { break }
        }
        return .normal
    }

    private func assign(_ target: AssignTarget, _ value: Value, scope: Scope) throws {
        switch target {
        case .name(let name):
            scope.set(name, value)
        case .tuple(let targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                let problem = items.count > targets.count ? "too many values to unpack" : "not enough values to unpack"
                throw TemplateError(.render, "\(problem) (expected \(targets.count), got \(items.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, scope: scope) }
        case .attribute(let owner, let attribute):
            guard case .namespace(let ns)? = scope.lookup(owner) else {
                throw TemplateError(.render, "cannot assign attribute on non-namespace object")
            }
            ns.attributes[attribute] = value
        }
    }

    // MARK: - Expressions

    func eval(_ expr: Expr, _ scope: Scope) throws -> Value {
        switch expr {
        case .literal(let lit):
            switch lit {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        case .name(let name):
            if let v = scope.lookup(name) { return v }
            if TemplateGlobals.names.contains(name) { return .callable(.builtin(name)) }
            return .undefined("'\(name)' is undefined")
        case .list(let items):
            return .list(try items.map { try eval($0, scope) })
        case .tuple(let items):
            return .tuple(try items.map { try eval($0, scope) })
        case .dict(let pairs):
            var d = Dict()
            for (k, v) in pairs {
                guard case .string(let key) = try eval(k, scope) else {
                    throw TemplateError(.unsupported, "dict literals with non-string keys are not supported")
                }
                d[key] = try eval(v, scope)
            }
            return .dict(d)
        case .attribute(let base, let name):
            return try getAttribute(try eval(base, scope), name)
        case .item(let base, let key):
            return try getItem(try eval(base, scope), try eval(key, scope))
        case .slice(let base, let start, let stop, let step):
            return try slice(
                try eval(base, scope),
                start: try start.map { try eval($0, scope) }, stop: try stop.map { try eval($0, scope) },
                step: try step.map { try eval($0, scope) })
        case .call(let callee, let args):
            let target = try eval(callee, scope)
            let (positional, keyword) = try evalArguments(args, scope)
            return try call(target, positional, keyword)
        case .filter(let base, let name, let args):
            return try applyFilter(name, to: try eval(base, scope), args, scope: scope)
        case .test(let base, let name, let args, let negated):
            let value = try eval(base, scope)
            let (positional, keyword) = try evalArguments(args, scope)
            let result = try TemplateTests.apply(name, value, positional, keyword)
            return .bool(negated ? !result : result)
        case .negate(let e):
            let v = try eval(e, scope)
            switch v {
            case .int(let i): return .int(-i)
            case .bool(let b): return .int(b ? -1 : 0)
            case .double(let d): return .double(-d)
            case .undefined: throw undefinedError(v)
            default: throw TemplateError(.render, "bad operand type for unary -: '\(v.typeName)'")
            }
        case .plus(let e):
            let v = try eval(e, scope)
            guard v.number != nil else {
                if v.isUndefined { throw undefinedError(v) }
                throw TemplateError(.render, "bad operand type for unary +: '\(v.typeName)'")
            }
            if case .bool(let b) = v { return .int(b ? 1 : 0) }
            return v
        case .not(let e):
            return .bool(!(try eval(e, scope).truthy))
        case .and(let a, let b):
            let left = try eval(a, scope)
            return left.truthy ? try eval(b, scope) : left
        case .or(let a, let b):
            let left = try eval(a, scope)
            return left.truthy ? left : try eval(b, scope)
        case .binary(let op, let a, let b):
            return try binary(op, try eval(a, scope), try eval(b, scope))
        case .compare(let first, let rest):
            var left = try eval(first, scope)
            for (op, rhs) in rest {
                let right = try eval(rhs, scope)
                guard try compare(op, left, right) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let parts):
            return .string(try parts.map { try eval($0, scope).pyStr }.joined())
        case .conditional(let condition, let then, let otherwise):
            if try eval(condition, scope).truthy { return try eval(then, scope) }
            if let otherwise { return try eval(otherwise, scope) }
            return .undefined("the inline if-expression evaluated to false and no else section was defined")
        }
    }

    func evalArguments(_ args: Arguments, _ scope: Scope) throws -> ([Value], [(String, Value)]) {
        let positional = try args.positional.map { try eval($0, scope) }
        let keyword = try args.keyword.map { ($0.0, try eval($0.1, scope)) }
        return (positional, keyword)
    }

    private func applyFilter(_ name: String, to value: Value, _ args: Arguments, scope: Scope) throws -> Value {
        let (positional, keyword) = try evalArguments(args, scope)
        return try TemplateFilters.apply(name, value, positional, keyword, evaluator: self)
    }

    // MARK: - Calls

    func call(_ target: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        switch target {
        case .callable(.macro(let definition, let closure)):
            return try callMacro(definition, closure: closure, args, kwargs)
        case .callable(.builtin(let name)):
            return try TemplateGlobals.call(name, args, kwargs, settings: settings)
        case .callable(.method(let receiver, let name)):
            return try TemplateMethods.call(receiver, name, args, kwargs)
        case .callable(.loopCycle(let loop)):
            guard !args.isEmpty else { throw TemplateError(.render, "no items for cycling given") }
            return args[loop.index0 % args.count]
        case .undefined:
            throw undefinedError(target)
        default:
            throw TemplateError(.render, "'\(target.typeName)' object is not callable")
        }
    }

    private func callMacro(_ m: MacroDefinition, closure: Scope, _ args: [Value], _ kwargs: [(String, Value)]) throws -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { throw TemplateError(.render, "macro recursion too deep") }
        if args.count > m.parameters.count, !m.catchesVarargs {
            throw TemplateError(.render, "macro '\(m.name)' takes not more than \(m.parameters.count) argument(s)")
        }
        let scope = Scope(parent: closure)
        var remaining = kwargs
        for (i, param) in m.parameters.enumerated() {
            if i < args.count {
                scope.set(param.name, args[i])
            } else if let k = remaining.firstIndex(where: { $0.0 == param.name }) {
                scope.set(param.name, remaining[k].1)
                remaining.remove(at: k)
            } else if let def = param.defaultValue {
                scope.set(param.name, try eval(def, scope))
            } else {
                scope.set(param.name, .undefined("parameter '\(param.name)' was not provided"))
            }
        }
        if let unknown = remaining.first, !m.catchesKwargs {
            throw TemplateError(.render, "macro '\(m.name)' takes no keyword argument '\(unknown.0)'")
        }
        scope.set("varargs", .tuple(args.count > m.parameters.count ? Array(args[m.parameters.count...]) : []))
        var extra = Dict()
        for (k, v) in remaining { extra[k] = v }
        scope.set("kwargs", .dict(extra))
        var out = ""
        _ = try run(m.body, scope: scope, into: &out)
        return .string(out)
    }

    // MARK: - Attribute and item access

    func getAttribute(_ base: Value, _ name: String) throws -> Value {
        switch base {
        case .undefined:
            throw undefinedError(base)
        case .dict(let d):
            if TemplateMethods.dictMethods.contains(name) { return .callable(.method(base, name)) }
            return d[name] ?? .undefined("'dict object' has no attribute '\(name)'")
        case .namespace(let ns):
            return ns.attributes[name] ?? .undefined("'Namespace object' has no attribute '\(name)'")
        case .string:
            if TemplateMethods.stringMethods.contains(name) { return .callable(.method(base, name)) }
        case .list, .tuple:
            if TemplateMethods.listMethods.contains(name) { return .callable(.method(base, name)) }
        case .loop(let loop):
            return loopAttribute(loop, name)
        default:
            break
        }
        return .undefined("'\(base.typeName) object' has no attribute '\(name)'")
    }

    private func loopAttribute(_ loop: LoopState, _ name: String) -> Value {
        let i = loop.index0
        let n = loop.items.count
        switch name {
        case "index": return .int(i + 1)
        case "index0": return .int(i)
        case "revindex": return .int(n - i)
        case "revindex0": return .int(n - i - 1)
        case "first": return .bool(i == 0)
        case "last": return .bool(i == n - 1)
        case "length": return .int(n)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return i > 0 ? loop.items[i - 1] : .undefined("there is no previous item")
        case "nextitem": return i + 1 < n ? loop.items[i + 1] : .undefined("there is no next item")
        case "cycle": return .callable(.loopCycle(loop))
        default: return .undefined("'LoopContext object' has no attribute '\(name)'")
        }
    }

    func getItem(_ base: Value, _ key: Value) throws -> Value {
        switch base {
        case .undefined:
            throw undefinedError(base)
        case .dict(let d):
            if case .string(let k) = key {
                if let v = d[k] { return v }
                return try getAttribute(base, k)
            }
            return .undefined("'dict object' has no attribute '\(key.pyStr)'")
        case .list(let items), .tuple(let items):
            if let i = key.intValue {
                let idx = i < 0 ? items.count + i : i
                return items.indices.contains(idx) ? items[idx] : .undefined("'\(base.typeName) object' has no element \(i)")
            }
        case .string(let s):
            if let i = key.intValue {
                let scalars = Array(s.unicodeScalars)
                let idx = i < 0 ? scalars.count + i : i
                return scalars.indices.contains(idx) ? .string(String(scalars[idx])) : .undefined("'str object' has no element \(i)")
            }
        default:
            break
        }
        if case .string(let k) = key { return try getAttribute(base, k) }
        return .undefined("'\(base.typeName) object' has no element \(key.pyRepr)")
    }

    private func slice(_ base: Value, start: Value?, stop: Value?, step: Value?) throws -> Value {
        func bound(_ v: Value?) throws -> Int? {
            guard let v else { return nil }
            if case .none = v { return nil }
            guard let i = v.intValue else {
                throw TemplateError(.render, "slice indices must be integers or None")
            }
            return i
        }
        let s = try bound(start), e = try bound(stop), st = try bound(step) ?? 1
        guard st != 0 else { throw TemplateError(.render, "slice step cannot be zero") }
        switch base {
        case .list(let items): return .list(pySlice(items, s, e, st))
        case .tuple(let items): return .tuple(pySlice(items, s, e, st))
        case .string(let str):
            var view = String.UnicodeScalarView()
            view.append(contentsOf: pySlice(Array(str.unicodeScalars), s, e, st))
            return .string(String(view))
        case .undefined: throw undefinedError(base)
        default: throw TemplateError(.render, "'\(base.typeName)' object is not subscriptable")
        }
    }

    // MARK: - Operators

    private func binary(_ op: BinaryOp, _ a: Value, _ b: Value) throws -> Value {
        if a.isUndefined { throw undefinedError(a) }
        if b.isUndefined { throw undefinedError(b) }
        func typeError() -> TemplateError {
            TemplateError(.render, "unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case .add:
            switch (a, b) {
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.list(let x), .list(let y)): return .list(x + y)
            case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
            case (.string, _):
                throw TemplateError(.render, "can only concatenate str (not \"\(b.typeName)\") to str")
            default: break
            }
        case .mul:
            if case .string(let s) = a, let n = b.intValue { return .string(String(repeating: s, count: max(0, n))) }
            if case .string(let s) = b, let n = a.intValue { return .string(String(repeating: s, count: max(0, n))) }
            if case .list(let l) = a, let n = b.intValue { return .list(Array(repeatElement(l, count: max(0, n)).joined())) }
            if case .list(let l) = b, let n = a.intValue { return .list(Array(repeatElement(l, count: max(0, n)).joined())) }
        case .mod:
            if case .string = a { throw TemplateError(.unsupported, "printf-style '%' string formatting is not supported") }
        default:
            break
        }
        if let x = a.intValue, let y = b.intValue {
            switch op {
            case .add: return try checked(x.addingReportingOverflow(y))
            case .sub: return try checked(x.subtractingReportingOverflow(y))
            case .mul: return try checked(x.multipliedReportingOverflow(by: y))
            case .div:
                guard y != 0 else { throw TemplateError(.render, "division by zero") }
                return .double(Double(x) / Double(y))
            case .floorDiv:
                guard y != 0 else { throw TemplateError(.render, "integer division or modulo by zero") }
                let q = x / y
                return .int((x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q)
            case .mod:
                guard y != 0 else { throw TemplateError(.render, "integer division or modulo by zero") }
                let r = x % y
                return .int((r != 0 && (r < 0) != (y < 0)) ? r + y : r)
            case .pow:
                if y < 0 { return .double(pow(Double(x), Double(y))) }
                var result = 1, base = x, e = y
                while e > 0 {
                    if e & 1 == 1 { result = try checkedInt(result.multipliedReportingOverflow(by: base)) }
                    e >>= 1
                    if e > 0 { base = try checkedInt(base.multipliedReportingOverflow(by: base)) }
                }
                return .int(result)
            }
        }
        guard let x = a.number, let y = b.number else { throw typeError() }
        switch op {
        case .add: return .double(x + y)
        case .sub: return .double(x - y)
        case .mul: return .double(x * y)
        case .div:
            guard y != 0 else { throw TemplateError(.render, "float division by zero") }
            return .double(x / y)
        case .floorDiv:
            guard y != 0 else { throw TemplateError(.render, "float floor division by zero") }
            return .double((x / y).rounded(.down))
        case .mod:
            guard y != 0 else { throw TemplateError(.render, "float modulo") }
            var r = x.truncatingRemainder(dividingBy: y)
            if r != 0, (r < 0) != (y < 0) { r += y }
            return .double(r)
        case .pow: return .double(pow(x, y))
        }
    }

    private func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> Value {
        .int(try checkedInt(r))
    }

    private func checkedInt(_ r: (partialValue: Int, overflow: Bool)) throws -> Int {
        guard !r.overflow else { throw TemplateError(.render, "integer overflow") }
        return r.partialValue
    }

    func compare(_ op: CompareOp, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case .eq: return pyEqual(a, b)
        case .ne: return !pyEqual(a, b)
        case .lt: return try pyLess(a, b)
        case .gt: return try pyLess(b, a)
        case .le: return try pyLess(a, b) || pyEqual(a, b)
        case .ge: return try pyLess(b, a) || pyEqual(a, b)
        case .in: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        }
    }

    /// Python `needle in container`.
    func contains(_ container: Value, _ needle: Value) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let n) = needle else {
                throw TemplateError(.render, "'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return scalarRange(of: Array(n.unicodeScalars), in: Array(s.unicodeScalars)) != nil
        case .list(let items), .tuple(let items):
            return items.contains { pyEqual($0, needle) }
        case .dict(let d):
            if case .string(let k) = needle { return d[k] != nil }
            return false
        case .undefined:
            return false
        default:
            throw TemplateError(.render, "argument of type '\(container.typeName)' is not iterable")
        }
    }
}

/// Python iteration: lists, tuples, dict keys, string characters; undefined iterates as empty.
func iterate(_ value: Value) throws -> [Value] {
    switch value {
    case .list(let items), .tuple(let items): return items
    case .dict(let d): return d.keys.map { .string($0) }
    case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
    case .undefined: return []
    case .loop(let loop): return loop.items
    default: throw TemplateError(.render, "'\(value.typeName)' object is not iterable")
    }
}

/// Python slice semantics (negative indices, clamping, negative steps).
func pySlice<T>(_ items: [T], _ start: Int?, _ stop: Int?, _ step: Int) -> [T] {
    let n = items.count
    func adjust(_ i: Int?, _ defaultValue: Int, lower: Int, upper: Int) -> Int {
        guard var i else { return defaultValue }
        if i < 0 { i += n }
        return min(max(i, lower), upper)
    }
    var result: [T] = []
    if step > 0 {
        var i = adjust(start, 0, lower: 0, upper: n)
        let end = adjust(stop, n, lower: 0, upper: n)
        while i < end { result.append(items[i]); i += step }
    } else {
        var i = adjust(start, n - 1, lower: -1, upper: n - 1)
        let end = adjust(stop, -1, lower: -1, upper: n - 1)
        while i > end { result.append(items[i]); i += step }
    }
    return result
}

/// First occurrence of `needle` in `haystack` (by scalars), or nil.
func scalarRange(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int = 0) -> Range<Int>? {
    if needle.isEmpty { return start <= haystack.count ? start..<start : nil }
    guard haystack.count >= needle.count else { return nil }
    var i = start
    while i + needle.count <= haystack.count {
        if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
        i += 1
    }
    return nil
}
