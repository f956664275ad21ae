import Hummingbird

/// GET /: a live status page for operators, one self-contained HTML document (no external
/// scripts, styles or fonts, so it works air-gapped) that polls GET /v1/status every second.
/// It lists every served model; the live figures are the first language model's.
///
/// Every live figure has an element id (`queue`, `running`, `kv`, `tps`, `generated`...) and the
/// body's `data-refreshes` counts successful polls, so tests (and scripts) can read the page.
enum StatusPage {
    static var response: Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let html = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Nimbus status</title>
    <style>
      body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #f6f7f9; }
      h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
      .sub { color: #667; margin-bottom: 1.5rem; }
      .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .8rem; }
      .card { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; }
      .label { color: #667; font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
      .value { font-size: 1.7rem; font-variant-numeric: tabular-nums; }
      .bar { height: 6px; background: #e3e6ea; border-radius: 3px; margin-top: .4rem; }
      .bar > div { height: 100%; background: #3a7bd5; border-radius: 3px; width: 0; }
      table { border-collapse: collapse; margin-top: 1.5rem; }
      td { padding: .2rem 1.2rem .2rem 0; } td:first-child { color: #667; }
      #state.down { color: #b00020; }
      canvas { width: 100%; height: 48px; }
    </style>
    </head>
    <body data-refreshes="0">
    <h1>Nimbus <span id="model">…</span></h1>
    <div class="sub"><span id="state">connecting…</span> · kernels <b id="kernels">…</b> · up <span id="uptime">…</span></div>
    <div class="grid">
      <div class="card"><div class="label">Queue depth</div><div class="value" id="queue">–</div></div>
      <div class="card"><div class="label">Running sequences</div><div class="value"><span id="running">–</span> / <span id="max-seqs">–</span></div></div>
      <div class="card"><div class="label">KV cache</div><div class="value" id="kv">–</div><div class="bar"><div id="kv-bar"></div></div></div>
      <div class="card"><div class="label">Tokens / s</div><div class="value" id="tps">–</div><canvas id="spark" width="300" height="48"></canvas></div>
      <div class="card"><div class="label">Tokens generated</div><div class="value" id="generated">–</div></div>
      <div class="card"><div class="label">Memory (RSS)</div><div class="value" id="memory">–</div></div>
    </div>
    <table>
      <tr><td>Served models</td><td id="served">…</td></tr>
      <tr><td>LoRA adapters</td><td id="adapters">…</td></tr>
      <tr><td>CPU</td><td id="cpu">…</td></tr>
      <tr><td>Cores / compute threads</td><td id="cores">…</td></tr>
      <tr><td>Profile</td><td id="profile">…</td></tr>
      <tr><td>Memory</td><td id="memory-total">…</td></tr>
      <tr><td>KV blocks</td><td id="kv-blocks">…</td></tr>
      <tr><td>Steps / preemptions / prefix-cache hit tokens</td><td id="steps">…</td></tr>
      <tr><td>Speculative decoding: drafts / draft tokens accepted</td><td id="speculation">…</td></tr>
    </table>
    <script>
    "use strict";
    const history = [];
    const $ = (id) => document.getElementById(id);
    const bytes = (n) => n >= 1 << 30 ? (n / (1 << 30)).toFixed(2) + " GiB" : (n / (1 << 20)).toFixed(0) + " MiB";
    function duration(s) {
      const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
      return h ? h + "h " + m + "m" : m ? m + "m " + (s % 60) + "s" : s + "s";
    }
    function spark() {
      const c = $("spark"), g = c.getContext("2d"), max = Math.max(1, ...history);
      g.clearRect(0, 0, c.width, c.height);
      g.beginPath();
      history.forEach((v, i) => {
        const x = i * c.width / 59, y = c.height - 2 - v / max * (c.height - 4);
        i ? g.lineTo(x, y) : g.moveTo(x, y);
      });
      g.strokeStyle = "#3a7bd5"; g.lineWidth = 2; g.stroke();
    }
    async function refresh() {
      try {
        const r = await fetch("/v1/status", { cache: "no-store" });
        if (!r.ok) throw new Error("HTTP " + r.status);
        const s = await r.json();
        $("state").textContent = "serving"; $("state").className = "";
        $("model").textContent = s.model;
        const models = s.models || [], loras = models.filter((m) => m.kind === "lora");
        $("served").textContent = models.filter((m) => m.kind !== "lora").map((m) => m.name + " (" + m.kind + (m.ready ? "" : ", loading") + ")").join(", ");
        $("adapters").textContent = loras.length === 0 ? "none" : loras.map((m) => m.name + " (on " + m.parent +
          (m.loaded ? ", rank " + m.rank + ", in memory" : ", read at next use") + ")").join(", ");
        $("kernels").textContent = s.kernels;
        $("uptime").textContent = duration(s.uptime_seconds || 0);
        $("queue").textContent = s.waiting_requests;
        $("running").textContent = s.running_sequences;
        $("max-seqs").textContent = s.max_sequences;
        $("kv").textContent = (s.kv_cache.usage * 100).toFixed(1) + " %";
        $("kv-bar").style.width = (s.kv_cache.usage * 100) + "%";
        $("tps").textContent = (s.tokens_per_second || 0).toFixed(1);
        $("generated").textContent = s.generated_tokens;
        $("memory").textContent = bytes(s.memory_used_bytes || 0);
        const hw = s.hardware || {};
        $("cpu").textContent = hw.cpu;
        $("cores").textContent = hw.cores + " / " + hw.compute_threads;
        $("profile").textContent = hw.profile || "none";
        $("memory-total").textContent = bytes(hw.memory_total_bytes || 0);
        $("kv-blocks").textContent = s.kv_cache.used_blocks + " of " + s.kv_cache.total_blocks + " blocks of " + s.kv_cache.block_size
          + " positions; longest sequence " + (s.kv_cache.capacity_tokens == null ? "any, up to the context length" : s.kv_cache.capacity_tokens + " tokens");
        $("steps").textContent = s.steps + " / " + s.preemptions + " / " + s.prefix_cache_hit_tokens;
        const sd = s.speculation;
        $("speculation").textContent = sd.method === "off" ? "off" : sd.method + ": " + sd.drafts + " / " + sd.accepted_tokens
          + " of " + sd.draft_tokens + " (" + (sd.acceptance_rate * 100).toFixed(1) + " %)"
          + (sd.row_cost == null ? "" : ", row cost " + sd.row_cost.toFixed(2));
        history.push(s.tokens_per_second || 0);
        if (history.length > 60) history.shift();
        spark();
        document.body.dataset.refreshes = Number(document.body.dataset.refreshes) + 1;
      } catch (e) {
        $("state").textContent = "unreachable (" + e.message + ")"; $("state").className = "down";
      }
    }
    refresh();
    setInterval(refresh, 1000);
    </script>
    </body>
    </html>
    """
}
