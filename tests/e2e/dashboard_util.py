"""The Grafana dashboard and Prometheus example shipped in deploy/, and the metric names their
PromQL expressions use."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "nimbus-dashboard.json"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"

# PromQL words that look like metric names: aggregations, keywords, and the functions used.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan", "le"}


def dashboard():
    return json.loads(DASHBOARD.read_text())


def expressions():
    """(panel title, expr) for every target, plus the templating queries."""
    board = dashboard()
    out = [(p["title"], t["expr"]) for p in board["panels"] for t in p["targets"]]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            out.append((f"variable {variable['name']}", query["query"]))
    return out


def metric_names(expr):
    """Metric names an expression selects: identifiers that are not functions (followed by `(`),
    keywords, label names inside `{...}` or `by (...)`, strings, durations or Grafana variables."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                        # string literals
    text = re.sub(r"\{[^}]*\}", "", text)                                  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)      # grouping labels
    text = re.sub(r"\[[^\]]*\]", "", text)                                 # range selectors
    text = re.sub(r"\$\w+", "", text)                                      # Grafana variables
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        name, rest = match.group(0), text[match.end():].lstrip()
        if rest.startswith("(") or name.lower() in KEYWORDS:
            continue
        if name == "label_values":
            continue
        names.add(name)
    # label_values(metric, label): the first argument is a metric.
    names |= set(re.findall(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,", expr))
    names -= set(re.findall(r"label_values\([^,]*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", expr))
    return names
