#!/usr/bin/env python3
"""Overload benchmark: --factor (10) times more concurrent clients than the server admits
(NIM_MAX_NUM_SEQS + NIM_MAX_QUEUE_SIZE) for --seconds (60), against one `nimbus serve`.

Each client loops: a streaming chat completion (--max-tokens, ignore_eos) on a fresh connection;
on 429 it waits as Retry-After says (--retry retry-after, the default) or retries at once
(--retry immediate). It reports how many attempts were admitted and refused, p50/p99 time to first
token and end-to-end latency of the admitted ones, how fast refusals come back, throughput
(completed requests/s, generated tokens/s), and peak RSS against the KV budget (kv_cache_tokens of
the start-up log line "engine started", or /v1/status blocks x block size, times the model's KV
bytes per token read from its GGUF header).

It exits 1 if an admitted request did not complete, on any 5xx or dropped connection, any status
other than 200 and 429, a 429 without Retry-After or OpenAI's error body, or KV blocks still in use
afterwards.

The server is started here (--bin, --model; NIM_MAX_NUM_SEQS=--max-num-seqs,
NIM_MAX_QUEUE_SIZE=--max-queue) or attached to with --url and --pid (then --max-num-seqs comes from
/v1/status, --max-queue must match the server's NIM_MAX_QUEUE_SIZE, and --model is only read for
its KV bytes per token).

    make bench-overload
    scripts/bench_overload.py --seconds 20 --factor 4 --retry immediate --report overload.json
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability as rl  # noqa: E402


class Bench:
    def __init__(self, args, base, pid, model):
        self.args, self.base, self.pid, self.model = args, base, pid, model
        self.lock = threading.Lock()
        self.attempts = []   # dicts: status, outcome, ttft, latency, tokens, retry_after, error_body
        self.samples = []
        self.deadline = None
        self.done = threading.Event()

    def client(self, index):
        n = 0
        while time.monotonic() < self.deadline:
            n += 1
            body = {"model": self.model, "max_tokens": self.args.max_tokens, "ignore_eos": True, "stream": True,
                    "temperature": 0.7, "stream_options": {"include_usage": True},
                    "messages": [{"role": "user", "content": f"Client {index}, request {n}: tell me about the weather."}]}
            reply = rl.post(self.base, "/v1/chat/completions", body, stream=True, timeout=self.args.request_timeout)
            record = {"status": reply.status, "outcome": reply.outcome, "ttft": reply.ttft, "latency": reply.latency,
                      "error": reply.error}
            if reply.status == 200:
                usage = [e["usage"] for e in reply.events if e.get("usage")]
                record["tokens"] = usage[-1]["completion_tokens"] if usage else 0
            wait = 0.0
            if reply.status == 429:
                retry_after = reply.headers.get("retry-after", "")
                record["retry_after"] = retry_after
                record["error_body"] = rl.openai_error(reply.body) is not None
                if self.args.retry == "retry-after" and retry_after.isdigit():
                    wait = float(retry_after)
            with self.lock:
                self.attempts.append(record)
            if wait:
                time.sleep(min(wait, max(0.0, self.deadline - time.monotonic())))

    def sampler(self):
        while not self.done.is_set():
            try:
                process = rl.process_sample(self.pid)
                status = rl.engine_status(self.base)
            except (OSError, RuntimeError):
                break
            self.samples.append({"t": time.monotonic(), "rss_mib": process["rss_mib"],
                                 "used_blocks": status["kv_cache"]["used_blocks"],
                                 "running": status["running_sequences"], "waiting": status["waiting_requests"]})
            self.done.wait(self.args.sample_interval)

    def run(self, clients):
        status = rl.wait_idle(self.base)
        baseline = rl.settled_sample(self.pid)
        threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(clients)]
        sampler = threading.Thread(target=self.sampler, daemon=True)
        started = time.monotonic()
        self.deadline = started + self.args.seconds
        sampler.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.args.seconds + self.args.request_timeout + 30)
        wall = time.monotonic() - started
        self.done.set()
        sampler.join(10)
        hung = sum(t.is_alive() for t in threads)
        after = rl.wait_idle(self.base, timeout=60)
        return status, baseline, wall, hung, after


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--bin", default=os.path.join(rl.REPO, ".build/release/nimbus"))
    parser.add_argument("--model", default=os.path.expanduser("~/.cache/nimbus/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--max-num-seqs", type=int, default=4)
    parser.add_argument("--max-queue", type=int, default=4)
    parser.add_argument("--kv-cache-size", default="", help="NIM_KV_CACHE_SIZE of the started server (default: its own)")
    parser.add_argument("--env", action="append", default=[], metavar="NIM_X=VALUE")
    parser.add_argument("--log", default="bench-overload-server.log")
    parser.add_argument("--factor", type=float, default=10, help="clients per admitted place")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--retry", choices=["retry-after", "immediate"], default="retry-after")
    parser.add_argument("--request-timeout", type=float, default=300)
    parser.add_argument("--sample-interval", type=float, default=0.25)
    parser.add_argument("--report")
    args = parser.parse_args()

    proc = None
    if args.url:
        if not args.pid:
            parser.error("--url needs --pid")
        base, pid = args.url.rstrip("/"), args.pid
        models = [m for m in rl.engine_status(base)["models"] if m["kind"] == "language"]
        model = models[0]["name"]
        args.max_num_seqs = rl.engine_status(base)["max_sequences"]
        log_tokens = None
    else:
        env = {"NIM_MAX_NUM_SEQS": str(args.max_num_seqs), "NIM_MAX_QUEUE_SIZE": str(args.max_queue)}
        if args.kv_cache_size:
            env["NIM_KV_CACHE_SIZE"] = args.kv_cache_size
        env.update(kv.split("=", 1) for kv in args.env)
        model = rl.LLM_NAME
        proc, base = rl.start_server(args.bin, [args.model], [model], args.log, env)
        pid = proc.pid
        log_tokens = rl.kv_cache_tokens_from_log(args.log)
        print(f"started nimbus serve (pid {pid}) at {base}; log {args.log}", flush=True)
    capacity = args.max_num_seqs + args.max_queue
    clients = max(1, round(args.factor * capacity))
    print(f"overload: {clients} clients against {args.max_num_seqs} sequences + {args.max_queue} queued = {capacity} "
          f"admitted at once, {args.seconds:g} s, {args.max_tokens} tokens each, retry {args.retry}", flush=True)
    bench = Bench(args, base, pid, model)
    try:
        status, baseline, wall, hung, after = bench.run(clients)
    finally:
        if proc:
            rl.stop_server(proc)

    attempts = bench.attempts
    admitted = [a for a in attempts if a["status"] == 200]
    refused = [a for a in attempts if a["status"] == 429]
    completed = [a for a in admitted if a["outcome"] == "ok" and a.get("tokens") == args.max_tokens]
    others = [a for a in attempts if a["status"] not in (200, 429)]
    refusals_without = [a for a in refused if not a["retry_after"].isdigit() or not a["error_body"]]
    kv = status["kv_cache"]
    kv_tokens = kv["total_blocks"] * kv["block_size"]
    try:
        per_token = rl.kv_bytes_per_token(args.model) if args.model and os.path.exists(args.model) else None
    except (OSError, ValueError, KeyError):
        per_token = None
    kv_bytes = kv_tokens * per_token if per_token else None
    peak_rss = max([s["rss_mib"] for s in bench.samples] or [0])
    peak_blocks = max([s["used_blocks"] for s in bench.samples] or [0])
    tokens = sum(a.get("tokens", 0) for a in completed)
    mib = 1024 * 1024
    report = {
        "config": vars(args), "clients": clients, "capacity": capacity, "wall_seconds": round(wall, 2),
        "attempts": len(attempts), "admitted": len(admitted), "refused": len(refused), "completed": len(completed),
        "admitted_not_completed": len(admitted) - len(completed), "other_statuses": len(others),
        "refusals_without_retry_after_or_error_body": len(refusals_without), "clients_still_running": hung,
        "refused_fraction": round(len(refused) / max(1, len(attempts)), 4),
        "ttft_ms": rl.quantiles_ms([a["ttft"] for a in admitted if a["ttft"] is not None]),
        "e2e_latency_ms": rl.quantiles_ms([a["latency"] for a in completed]),
        "refusal_latency_ms": rl.quantiles_ms([a["latency"] for a in refused]),
        "requests_per_second": round(len(completed) / wall, 3), "tokens_per_second": round(tokens / wall, 1),
        "peak_running": max([s["running"] for s in bench.samples] or [0]),
        "peak_waiting": max([s["waiting"] for s in bench.samples] or [0]),
        "kv_cache": {"tokens": kv_tokens, "tokens_in_log": log_tokens, "bytes_per_token": per_token,
                     "budget_mib": round(kv_bytes / mib, 1) if kv_bytes else None,
                     "peak_used_blocks": peak_blocks, "total_blocks": kv["total_blocks"],
                     "peak_used_mib": round(peak_blocks * kv["block_size"] * per_token / mib, 1) if per_token else None},
        "rss_mib": {"idle_before": round(baseline["rss_mib"], 1), "peak": round(peak_rss, 1),
                    "growth": round(peak_rss - baseline["rss_mib"], 1)},
        "after": {"used_blocks": after["kv_cache"]["used_blocks"], "running": after["running_sequences"],
                  "waiting": after["waiting_requests"]},
        "examples": {"not_completed": [a for a in admitted if a not in completed][:5], "other": others[:5]},
    }
    failures = []
    if report["admitted_not_completed"]:
        failures.append(f"{report['admitted_not_completed']} admitted requests did not complete")
    if others:
        failures.append(f"{len(others)} answers neither 200 nor 429: {sorted({(a['status'], a['outcome']) for a in others})}")
    if refusals_without:
        failures.append(f"{len(refusals_without)} 429s without Retry-After or OpenAI's error body")
    if hung:
        failures.append(f"{hung} clients never returned")
    if not rl.is_idle(after):
        failures.append(f"after the load: {report['after']}")
    report["failures"] = failures

    print(f"attempts {len(attempts)}: admitted {len(admitted)}, refused {len(refused)} "
          f"({100 * report['refused_fraction']:.1f}%), completed {len(completed)}, other {len(others)}")
    print(f"time to first token (admitted): p50 {report['ttft_ms']['p50']} ms, p99 {report['ttft_ms']['p99']} ms; "
          f"end to end p50 {report['e2e_latency_ms']['p50']} ms, p99 {report['e2e_latency_ms']['p99']} ms; "
          f"a refusal takes p50 {report['refusal_latency_ms']['p50']} ms")
    print(f"throughput: {report['requests_per_second']} requests/s, {report['tokens_per_second']} tokens/s "
          f"(peak {report['peak_running']} running, {report['peak_waiting']} waiting)")
    k, r = report["kv_cache"], report["rss_mib"]
    print(f"RSS: {r['idle_before']} MiB idle before, peak {r['peak']} MiB (+{r['growth']}); KV budget "
          f"{k['tokens']} tokens (log: {k['tokens_in_log']}) = {k['budget_mib']} MiB, peak in use "
          f"{k['peak_used_blocks']} of {k['total_blocks']} blocks = {k['peak_used_mib']} MiB")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
        print(f"report: {args.report}")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("FAIL" if failures else "PASS")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
