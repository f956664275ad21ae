#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// GET /docs: the OpenAPI document as one self-contained HTML page.
///
/// No external scripts, styles or fonts (Swagger UI from a CDN would not load air-gapped, and
/// would be a third party running in the operator's browser). The operations are rendered here
/// in Swift, so the page reads without JavaScript; a small inline script adds each operation's
/// request fields and responses, and every schema, from the document embedded as JSON.
public enum APIDocsPage {
    public static func html(document: [UInt8]) -> String {
        let doc = (try? JSONDecoder().decode(JSONValue.self, from: Data(document))) ?? .object([:])
        let title = "\(doc["info"]?["title"]?.text ?? "API") \(doc["info"]?["version"]?.text ?? "")"
        // `</` inside the JSON would end the script element early; `<\/` is the same JSON string.
        let embedded = String(decoding: document, as: UTF8.self)
            .replacing("</", with: #"<\/"#)
            .replacing("<!--", with: #"\u003c!--"#)
        return head(title: escape(title)) + operations(doc) + """
            <h2 id="schemas">Schemas</h2>
            <div id="schema-list"><p class="muted">Field tables need JavaScript; the raw document is at <a href="openapi.json">openapi.json</a>.</p></div>
            <script type="application/json" id="openapi">\(embedded)</script>
            <script>\(script)</script>
            </body>
            </html>

            """
    }

    /// One section per operation, grouped under the document's tags in their order, by path
    /// within a tag: method, path, summary, description, status codes and request body.
    private static func operations(_ doc: JSONValue) -> String {
        guard case .object(let paths)? = doc["paths"] else { return "" }
        var byTag: [String: [(path: String, method: String, op: JSONValue)]] = [:]
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard case .object(let methods) = item else { continue }
            for (method, op) in methods.sorted(by: { $0.key < $1.key }) {
                var tag = ""
                if case .array(let tags)? = op["tags"], let first = tags.first?.text { tag = first }
                byTag[tag, default: []].append((path, method, op))
            }
        }
        var tags: [(String, String)] = []
        if case .array(let list)? = doc["tags"] {
            tags = list.compactMap { t in t["name"]?.text.map { ($0, t["description"]?.text ?? "") } }
        }
        for tag in byTag.keys.sorted() where !tags.contains(where: { $0.0 == tag }) { tags.append((tag, "")) }
        var html = ""
        for (tag, about) in tags {
            guard let ops = byTag[tag] else { continue }
            html += "<h2>\(escape(tag))</h2>\n<p class=\"muted\">\(prose(about))</p>\n"
            for (path, method, op) in ops {
                let id = op["operationId"]?.text ?? "\(method)\(path)"
                var codes: [String] = []
                if case .object(let responses)? = op["responses"] { codes = responses.keys.sorted() }
                var body = ""
                if let ref = op["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.text {
                    body = " · body <a href=\"#schema-\(escape(name(of: ref)))\">\(escape(name(of: ref)))</a>"
                }
                html += """
                    <section class="op" id="\(escape(id))" data-path="\(escape(path))" data-method="\(escape(method))">
                    <h3><span class="m \(escape(method))">\(escape(method.uppercased()))</span> <code>\(escape(path))</code> \(escape(op["summary"]?.text ?? ""))</h3>
                    <p>\(prose(op["description"]?.text ?? ""))</p>
                    <p class="muted">responses \(codes.map(escape).joined(separator: ", "))\(body)</p>
                    <div class="details"></div>
                    </section>

                    """
            }
        }
        return html
    }

    /// Escaped text with `backticked` spans set as code, as the descriptions write names.
    static func prose(_ text: String) -> String {
        escape(text).split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : String($0.element) }.joined()
    }

    private static func name(of ref: String) -> String {
        String(ref.split(separator: "/").last ?? "")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func head(title: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title)</title>
        <style>
          body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1d2330; }
          code, td:first-child { font-family: ui-monospace, monospace; }
          .op { border-top: 1px solid #dde; padding: .4rem 0; }
          .m { display: inline-block; min-width: 3.5rem; text-align: center; border-radius: 4px; color: #fff; font-size: .8rem; padding: .1rem .3rem; }
          .get { background: #2f7d4f; } .post { background: #3a62c9; }
          .muted { color: #667; }
          table { border-collapse: collapse; margin: .4rem 0 .8rem; width: 100%; font-size: .9rem; }
          th, td { text-align: left; vertical-align: top; padding: .2rem .6rem .2rem 0; border-bottom: 1px solid #eef; }
        </style>
        </head>
        <body>
        <h1>\(title)</h1>
        <p class="muted">OpenAPI 3.1 document: <a href="openapi.json">openapi.json</a> · <a href="#schemas">schemas</a></p>

        """
    }

    /// Renders field tables from the embedded document; plain DOM, no libraries.
    private static let script = #"""
    const doc = JSON.parse(document.getElementById('openapi').textContent);
    const esc = s => String(s).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]);
    const prose = s => esc(s || '').replace(/`([^`]*)`/g, '<code>$1</code>');
    const resolve = ref => ref.slice(2).split('/').reduce((o, k) => o && o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    const deref = s => { for (let i = 0; s && s.$ref && i < 10; i++) s = resolve(s.$ref); return s || {}; };
    const link = ref => { const n = ref.split('/').pop(); return `<a href="#schema-${esc(n)}">${esc(n)}</a>`; };
    function type(s) {
      if (!s) return 'any';
      if (s.$ref) return link(s.$ref);
      if (s.anyOf) return s.anyOf.map(type).join(' | ');
      if (s.const !== undefined) return esc(JSON.stringify(s.const));
      const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : ['any'];
      let t = types.map(x => x === 'array' ? type(s.items) + '[]' : esc(x)).join(' | ');
      if (s.enum) t += ': ' + s.enum.map(v => esc(JSON.stringify(v))).join(', ');
      const limits = ['minimum', 'exclusiveMinimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern']
        .filter(k => s[k] !== undefined).map(k => `${k} ${esc(s[k])}`);
      return limits.length ? `${t} <span class="muted">(${limits.join(', ')})</span>` : t;
    }
    function fields(schema) {
      const s = deref(schema);
      if (!s.properties) return `<p>${type(schema)} ${prose(s.description)}</p>`;
      const required = new Set(s.required || []);
      const rows = Object.keys(s.properties).sort().map(k => {
        const p = s.properties[k];
        return `<tr><td>${esc(k)}</td><td>${type(p)}</td><td>${required.has(k) ? 'required' : ''}</td><td>${prose(p.description || deref(p).description)}</td></tr>`;
      });
      return `<p>${prose(s.description)}</p><table><tr><th>field</th><th>type</th><th></th><th>description</th></tr>${rows.join('')}</table>`;
    }
    for (const section of document.querySelectorAll('.op')) {
      const op = doc.paths[section.dataset.path][section.dataset.method];
      let html = '';
      const body = op.requestBody && op.requestBody.content['application/json'];
      if (body) html += '<h4>Request body</h4>' + fields(body.schema);
      const rows = Object.keys(op.responses).sort().map(code => {
        const r = deref(op.responses[code]);
        const media = Object.entries(r.content || {}).map(([m, c]) => `${esc(m)}: ${type(c.schema)}`).join('<br>');
        return `<tr><td>${esc(code)}</td><td>${prose(r.description)}</td><td>${media}</td></tr>`;
      });
      html += `<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${rows.join('')}</table>`;
      section.querySelector('.details').innerHTML = html;
    }
    document.getElementById('schema-list').innerHTML = Object.keys(doc.components.schemas).sort()
      .map(n => `<section id="schema-${esc(n)}"><h3>${esc(n)}</h3>${fields(doc.components.schemas[n])}</section>`).join('');
    """#
}

extension JSONValue {
    /// The string, when this is one.
    var text: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
