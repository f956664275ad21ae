#!/usr/bin/env python3
"""Soak test: a mixed load against one `nimbus serve` (language model + embedder + ranker) for
--minutes, watching the process for leaks.

It starts the server itself (--bin, --model, --embedder; the ranker is the tiny committed
cross-encoder unless --ranker says otherwise), or attaches to a running one with --url and --pid
(the model names then come from /v1/status). --workers threads each loop over a weighted mix:

  chat, chat_stream                   chat completions, 4-40 tokens, some with ignore_eos
  completions_n, completions_n_stream completions with n = 2 or 3
  embeddings, ranking, rerank         /v1/embeddings, /v1/ranking (NIM body), /v1/rerank
  cancel                              a streaming chat completion hung up after its first event
                                      or its response head, half with RST (SO_LINGER 0)
  bad                                 malformed JSON, wrong types, out-of-range values, unknown
                                      model: must be 4xx with OpenAI's error body

Every --sample-interval seconds (60: a line per minute) it prints, per kind, the requests by
status and outcome and the p50/p90/p99 latency, and the server's RSS (VmRSS), open fds, threads,
KV blocks in use and running/waiting requests. At --warmup seconds it pauses the load, waits for
the engine to go idle and records fds and threads (the post-warm-up baseline); at the end it waits
for idle again and compares. The RSS slope is the least-squares fit (MiB per minute) of the samples
taken from --warmup on. The JSON report (--report) has all of it.

The KV cache is reserved at start-up but its pages become resident as blocks are first used, and
the block pool hands out never-used blocks before it evicts cached prefixes: until every block has
been used once, RSS climbs by the block size per new block without any leak. A server this script
starts therefore gets a small cache (--kv-cache-size, 64 MiB: a few hundred blocks, all used within
seconds); attached to a server with a large cache, expect that climb in the slope.

Exit status 1 on any 5xx, dropped connection (closed or reset before the response was whole),
unfinished request (a stream without [DONE], an error event, a timeout, or a request still running
at the end), wrong success body, 4xx to a good request or without OpenAI's error body, bad request
not answered 4xx, KV blocks still in use after the load, RSS slope above --max-rss-slope, or fd or
thread growth above --max-fd-growth / --max-thread-growth.

    make soak                                       # 30 minutes
    scripts/soak.py --url http://127.0.0.1:8000 --pid $(pgrep -n nimbus) --minutes 5
"""
import argparse
import collections
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability as rl  # noqa: E402

WEIGHTS = {"chat": 3, "chat_stream": 3, "completions_n": 1, "completions_n_stream": 1, "embeddings": 2,
           "ranking": 1, "rerank": 1, "cancel": 2, "bad": 2}
TOPICS = ["the sea", "a lighthouse", "bread", "prime numbers", "a red bicycle", "autumn", "volcanoes",
          "the moon", "chess", "a quiet library", "rivers", "honeybees"]
PASSAGES = ["A cat is a small domesticated carnivorous mammal.", "Rust is a systems programming language.",
            "The Pacific is the largest ocean on Earth.", "Bees make honey from the nectar of flowers.",
            "Bread is baked from a dough of flour and water.", "Chess is played on a board of 64 squares."]


class Mix:
    """The request kinds: each returns a record dict (kind, outcome, status, latency, ...)."""

    def __init__(self, base, names, rng):
        self.base, self.llm, self.embedder, self.ranker, self.rng = base, names["language"], names["embedding"], names["ranking"], rng
        self.bad_cycle = 0

    def prompt(self):
        return f"Write two sentences about {self.rng.choice(TOPICS)} and the number {self.rng.randint(1, 999)}."

    def sampling(self):
        body = {"max_tokens": self.rng.randint(4, 40), "temperature": round(self.rng.uniform(0, 1), 2)}
        if self.rng.random() < 0.5:
            body["ignore_eos"] = True
        return body

    def chat(self, stream):
        body = dict(self.sampling(), model=self.llm, messages=[{"role": "user", "content": self.prompt()}], stream=stream)
        if stream:
            body["stream_options"] = {"include_usage": True}
        reply = rl.post(self.base, "/v1/chat/completions", body, stream=stream)
        return self.check("chat_stream" if stream else "chat", reply, lambda: self.check_choices(reply, 1, stream, chat=True))

    def completions_n(self, stream):
        n = self.rng.choice([2, 3])
        body = dict(self.sampling(), model=self.llm, prompt=self.prompt(), n=n, stream=stream)
        reply = rl.post(self.base, "/v1/completions", body, stream=stream)
        return self.check("completions_n_stream" if stream else "completions_n", reply,
                          lambda: self.check_choices(reply, n, stream, chat=False))

    def embeddings(self):
        inputs = [self.prompt() for _ in range(self.rng.randint(1, 8))]
        body = {"model": self.embedder, "input": inputs, "input_type": "query"}
        reply = rl.post(self.base, "/v1/embeddings", body)

        def valid():
            data = reply.json()["data"]
            return len(data) == len(inputs) and len({len(d["embedding"]) for d in data}) == 1 and len(data[0]["embedding"]) > 0
        return self.check("embeddings", reply, valid)

    def ranking(self):
        passages = self.rng.sample(PASSAGES, self.rng.randint(2, len(PASSAGES)))
        body = {"model": self.ranker, "query": {"text": self.prompt()}, "passages": [{"text": p} for p in passages],
                "truncate": "END"}  # the tiny committed cross-encoder reads 64 tokens
        reply = rl.post(self.base, "/v1/ranking", body)
        return self.check("ranking", reply, lambda: sorted(r["index"] for r in reply.json()["rankings"]) == list(range(len(passages))))

    def rerank(self):
        documents = self.rng.sample(PASSAGES, self.rng.randint(2, len(PASSAGES)))
        top_n = self.rng.randint(1, len(documents))
        body = {"model": self.ranker, "query": self.prompt(), "documents": documents, "top_n": top_n}
        reply = rl.post(self.base, "/v1/rerank", body)
        return self.check("rerank", reply, lambda: len(reply.json()["results"]) == top_n)

    def cancel(self):
        after_event = self.rng.random() < 0.5
        reset = self.rng.random() < 0.5
        body = {"model": self.llm, "messages": [{"role": "user", "content": self.prompt()}], "max_tokens": 64,
                "ignore_eos": True, "stream": True}
        status, seconds, error = rl.open_and_hang_up(self.base, "/v1/chat/completions", body,
                                                     until=b"data:" if after_event else b"\r\n\r\n", reset=reset)
        detail = f"hung up after the {'first event' if after_event else 'head'} with {'RST' if reset else 'FIN'}"
        if error:
            outcome = "dropped"
        else:
            outcome = "ok" if status == 200 else "5xx" if status >= 500 else "4xx" if status >= 400 else "dropped"
        return {"kind": "cancel", "outcome": outcome, "status": status, "latency": seconds, "detail": detail,
                "error": error}

    def bad(self):
        cases = [
            ("malformed JSON", "/v1/chat/completions", b'{"model": "x", "messages": ['),
            ("messages not an array", "/v1/chat/completions", {"model": self.llm, "messages": "hello"}),
            ("max_tokens a string", "/v1/completions", {"model": self.llm, "prompt": "hi", "max_tokens": "ten"}),
            ("temperature out of range", "/v1/chat/completions",
             {"model": self.llm, "messages": [{"role": "user", "content": "hi"}], "temperature": 7}),
            ("unknown model", "/v1/chat/completions", {"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}),
            ("unknown embedding model", "/v1/embeddings", {"model": "no-such-embedder", "input": "hi"}),
            ("embedding input a number", "/v1/embeddings", {"model": self.embedder, "input": 42}),
            ("ranking without passages", "/v1/ranking", {"model": self.ranker, "query": {"text": "q"}}),
            ("rerank documents not a list", "/v1/rerank", {"model": self.ranker, "query": "q", "documents": "d"}),
            ("empty body", "/v1/completions", b""),
        ]
        name, path, payload = cases[self.bad_cycle % len(cases)]
        self.bad_cycle += 1
        reply = rl.post(self.base, path, payload)
        record = self.record("bad", reply, detail=name)
        if reply.outcome == "4xx":
            record["error_body"] = rl.openai_error(reply.body) is not None
        return record

    def check_choices(self, reply, n, stream, chat):
        if not stream:
            choices = reply.json()["choices"]
            return (sorted(c["index"] for c in choices) == list(range(n))
                    and all(c["finish_reason"] in ("stop", "length") for c in choices)
                    and all((c["message"]["content"] is not None) if chat else isinstance(c["text"], str) for c in choices))
        finished = {c["index"] for e in reply.events for c in e.get("choices", []) if c.get("finish_reason") in ("stop", "length")}
        return finished == set(range(n))

    def record(self, kind, reply, detail=None):
        return {"kind": kind, "outcome": reply.outcome, "status": reply.status, "latency": reply.latency,
                "detail": detail, "error": reply.error or (reply.body[:300].decode(errors="replace") if reply.outcome != "ok" else None)}

    def check(self, kind, reply, valid):
        """A record of `reply`; a 2xx whose body `valid()` rejects is `invalid`."""
        record = self.record(kind, reply)
        if reply.outcome == "4xx":
            record["error_body"] = rl.openai_error(reply.body) is not None
        if reply.outcome == "ok":
            try:
                good, why = valid(), None
            except (KeyError, TypeError, ValueError, IndexError) as e:
                good, why = False, f"{type(e).__name__}: {e}"
            if not good:
                shown = reply.body.decode(errors="replace") if reply.body else json.dumps(reply.events)
                record["outcome"], record["error"] = "invalid", (why or "unexpected body") + ": " + shown[:300]
        return record

    def run(self, kind):
        if kind in ("chat", "chat_stream"):
            return self.chat(kind == "chat_stream")
        if kind in ("completions_n", "completions_n_stream"):
            return self.completions_n(kind == "completions_n_stream")
        return getattr(self, kind)()


class Soak:
    def __init__(self, args, base, pid, names):
        self.args, self.base, self.pid, self.names = args, base, pid, names
        self.records, self.lock = [], threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.paused, self.stopping, self.inflight, self.started_requests = False, False, 0, 0
        self.t0 = None

    def worker(self, index):
        mix = Mix(self.base, self.names, random.Random(self.args.seed * 1000 + index))
        kinds, weights = zip(*WEIGHTS.items())
        while True:
            with self.cond:
                while self.paused and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                self.inflight += 1
                self.started_requests += 1
            kind = mix.rng.choices(kinds, weights)[0]
            try:
                record = mix.run(kind)
            except Exception as e:  # a bug in this script must not pass for a server failure
                record = {"kind": kind, "outcome": "client_exception", "status": 0, "latency": 0,
                          "error": f"{type(e).__name__}: {e}", "detail": None}
            record["t"] = time.monotonic() - self.t0
            with self.cond:
                self.records.append(record)
                self.inflight -= 1
                self.cond.notify_all()

    def pause_for_baseline(self):
        """Stops handing out work, waits for in-flight requests and an idle engine, and samples."""
        with self.cond:
            self.paused = True
            while self.inflight:
                self.cond.wait()
        status = rl.wait_idle(self.base, timeout=60)
        sample = rl.settled_sample(self.pid)
        sample.update(used_blocks=status["kv_cache"]["used_blocks"], t=round(time.monotonic() - self.t0, 1))
        with self.cond:
            self.paused = False
            self.cond.notify_all()
        return sample

    def sample(self):
        sample = rl.process_sample(self.pid)
        sample["t"] = round(time.monotonic() - self.t0, 1)
        try:
            status = rl.engine_status(self.base)
            sample.update(used_blocks=status["kv_cache"]["used_blocks"], running=status["running_sequences"],
                          waiting=status["waiting_requests"])
        except (OSError, RuntimeError, ValueError) as e:
            sample.update(used_blocks=None, running=None, waiting=None, status_error=str(e))
        return sample

    def interval_row(self, start, end, sample):
        with self.lock:
            records = [r for r in self.records if start <= r["t"] < end]
        row = {"t_start": round(start, 1), "t_end": round(end, 1), "server": sample, "kinds": summarize(records)}
        print(format_row(row), flush=True)
        return row

    def run(self):
        args = self.args
        duration = args.minutes * 60
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(args.workers)]
        initial = rl.settled_sample(self.pid)
        self.t0 = time.monotonic()
        for t in threads:
            t.start()
        samples, rows, warm = [], [], None
        last = 0.0
        next_sample = args.sample_interval
        while True:
            now = time.monotonic() - self.t0
            if now >= min(next_sample, duration):
                if not rl.alive(self.pid):
                    break
                sample = self.sample()
                samples.append(sample)
                rows.append(self.interval_row(last, now, sample))
                last = now
                next_sample += args.sample_interval
                if warm is None and now >= args.warmup and now < duration:
                    warm = self.pause_for_baseline()
                    print(f"post-warm-up baseline (idle): rss {warm['rss_mib']:.1f} MiB, fds {warm['fds']}, "
                          f"threads {warm['threads']}", flush=True)
                if now >= duration:
                    break
            time.sleep(min(0.5, max(0.01, min(next_sample, duration) - now)))
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        for t in threads:
            t.join(timeout=args.request_timeout + 30)
        still_running = sum(t.is_alive() for t in threads)
        return self.verdict(initial, samples, rows, warm, still_running)

    def verdict(self, initial, samples, rows, warm, still_running):
        args = self.args
        server_alive = rl.alive(self.pid)
        after = final = None
        if server_alive:
            status = rl.wait_idle(self.base, timeout=60)
            after = {"used_blocks": status["kv_cache"]["used_blocks"], "total_blocks": status["kv_cache"]["total_blocks"],
                     "running": status["running_sequences"], "waiting": status["waiting_requests"]}
            final = rl.settled_sample(self.pid)
        with self.lock:
            records = list(self.records)
        totals = summarize(records)
        outcomes = collections.Counter(r["outcome"] for r in records)
        problems = []

        def fail(reason, matching=()):
            problems.append({"reason": reason, "examples": [
                {k: r.get(k) for k in ("t", "kind", "detail", "status", "outcome", "error")} for r in matching[:5]]})

        good = [r for r in records if r["kind"] != "bad"]
        bad = [r for r in records if r["kind"] == "bad"]
        for outcome in ("5xx", "dropped", "unfinished", "invalid", "client_exception"):
            matching = [r for r in records if r["outcome"] == outcome]
            if matching:
                fail(f"{len(matching)} requests ended {outcome}", matching)
        unexpected_4xx = [r for r in good if r["outcome"] == "4xx"]
        if unexpected_4xx:
            fail(f"{len(unexpected_4xx)} good requests got 4xx", unexpected_4xx)
        no_body = [r for r in records if r["outcome"] == "4xx" and r["kind"] != "cancel" and not r.get("error_body")]
        if no_body:
            fail(f"{len(no_body)} 4xx answers without OpenAI's error body", no_body)
        bad_not_4xx = [r for r in bad if r["outcome"] not in ("4xx", "5xx", "dropped")]
        if bad_not_4xx:
            fail(f"{len(bad_not_4xx)} bad requests were not refused with 4xx", bad_not_4xx)
        unfinished = self.started_requests - len(records)
        if unfinished or still_running:
            fail(f"{unfinished} requests never finished ({still_running} workers still blocked)")
        if not server_alive:
            fail("the server process exited during the soak")
        if warm and warm["used_blocks"]:
            fail(f"{warm['used_blocks']} KV blocks still in use when the load paused after the warm-up")
        if after and after["used_blocks"]:
            fail(f"{after['used_blocks']} KV blocks still in use after the load")
        if after and (after["running"] or after["waiting"]):
            fail(f"{after['running']} sequences running and {after['waiting']} waiting after the load")

        status_errors = [s for s in samples if s.get("status_error")]
        if status_errors:
            fail(f"/v1/status failed at {len(status_errors)} samples: {status_errors[0]['status_error']}")
        after_warmup = [s for s in samples if warm and s["t"] >= warm["t"] - 0.5]
        rss_slope = rl.slope([s["t"] / 60 for s in after_warmup], [s["rss_mib"] for s in after_warmup])
        if warm is None:
            fail(f"the run ({args.minutes} min) ended before the warm-up ({args.warmup} s): no baseline")
        elif len(after_warmup) < 3:
            fail(f"only {len(after_warmup)} samples after the warm-up: too few for an RSS slope")
        elif rss_slope > args.max_rss_slope:
            fail(f"RSS grows {rss_slope:.2f} MiB/min after the warm-up (limit {args.max_rss_slope})")
        fd_growth = thread_growth = None
        if warm and final:
            fd_growth, thread_growth = final["fds"] - warm["fds"], final["threads"] - warm["threads"]
            if fd_growth > args.max_fd_growth:
                fail(f"open fds grew by {fd_growth} from the post-warm-up baseline {warm['fds']} (limit {args.max_fd_growth})")
            if thread_growth > args.max_thread_growth:
                fail(f"threads grew by {thread_growth} from the post-warm-up baseline {warm['threads']} (limit {args.max_thread_growth})")

        report = {
            "config": {k: v for k, v in vars(args).items() if k not in ("env",)},
            "server": {"url": self.base, "pid": self.pid, "models": self.names},
            "requests": {"started": self.started_requests, "finished": len(records), "outcomes": dict(outcomes),
                         "by_kind": totals,
                         "bad_cases": {f"{d} -> {code}": c for (d, code), c in
                                       sorted(collections.Counter((r["detail"], r["status"]) for r in bad).items())},
                         "4xx_without_error_body": len(no_body), "good_requests_4xx": len(unexpected_4xx),
                         "bad_requests_not_4xx": len(bad_not_4xx)},
            "intervals": rows,
            "samples": samples,
            "initial": initial, "warm": warm, "final": final, "after_load": after,
            "rss_slope_mib_per_min": None if rss_slope is None else round(rss_slope, 3),
            "rss_samples_after_warmup": len(after_warmup),
            "fd_growth": fd_growth, "thread_growth": thread_growth,
            "problems": problems,
            "passed": not problems,
        }
        return report


def summarize(records):
    """Per kind: count, statuses, outcomes and latency quantiles (ms)."""
    kinds = {}
    for kind in sorted({r["kind"] for r in records}):
        rs = [r for r in records if r["kind"] == kind]
        kinds[kind] = {"count": len(rs),
                       "status": dict(sorted(collections.Counter(str(r["status"]) for r in rs).items())),
                       "outcome": dict(sorted(collections.Counter(r["outcome"] for r in rs).items())),
                       "latency_ms": rl.quantiles_ms([r["latency"] for r in rs])}
    return kinds


def format_row(row):
    s = row["server"]
    lines = [f"[{row['t_start']:7.1f}-{row['t_end']:7.1f} s] rss {s['rss_mib']:.1f} MiB  fds {s['fds']}  threads {s['threads']}  "
             f"kv blocks {s['used_blocks']}  running {s['running']}  waiting {s['waiting']}"]
    for kind, k in row["kinds"].items():
        statuses = " ".join(f"{code}:{n}" for code, n in k["status"].items())
        bad = {o: n for o, n in k["outcome"].items() if o not in ("ok", "4xx")}
        q = k["latency_ms"]
        lines.append(f"    {kind:21s} {k['count']:5d}  [{statuses}]{'  ' + str(bad) if bad else ''}  "
                     f"p50 {q['p50']} p90 {q['p90']} p99 {q['p99']} ms")
    return "\n".join(lines)


def names_from_status(base):
    names = {}
    for m in rl.engine_status(base)["models"]:
        names.setdefault(m["kind"], m["name"])
    missing = {"language", "embedding", "ranking"} - set(names)
    if missing:
        sys.exit(f"the server at {base} serves no {', '.join(sorted(missing))} model; the soak needs all three")
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="attach to this server (with --pid) instead of starting one")
    parser.add_argument("--pid", type=int, help="the attached server's process id (for RSS, fds, threads)")
    parser.add_argument("--bin", default=os.path.join(rl.REPO, ".build/release/nimbus"))
    parser.add_argument("--model", default=os.path.expanduser("~/.cache/nimbus/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--embedder", default=os.path.expanduser("~/.cache/nimbus/models/all-MiniLM-L6-v2"))
    parser.add_argument("--ranker", default=rl.RANKER_PATH)
    parser.add_argument("--env", action="append", default=[], metavar="NIM_X=VALUE", help="server setting (repeatable)")
    parser.add_argument("--kv-cache-size", default="64MiB",
                        help="NIM_KV_CACHE_SIZE of the started server ('' for its default); see above")
    parser.add_argument("--log", default="soak-server.log", help="the started server's log")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sample-interval", type=float, default=60, help="seconds between samples and report lines")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before the baseline and the RSS fit start")
    parser.add_argument("--max-rss-slope", type=float, default=1.0, help="MiB per minute after the warm-up")
    parser.add_argument("--max-fd-growth", type=int, default=4)
    parser.add_argument("--max-thread-growth", type=int, default=4)
    parser.add_argument("--request-timeout", type=float, default=300)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--report", help="write the JSON report here")
    args = parser.parse_args()

    proc = None
    if args.url:
        if not args.pid:
            parser.error("--url needs --pid")
        base, pid = args.url.rstrip("/"), args.pid
        names = names_from_status(base)
    else:
        env = dict(kv.split("=", 1) for kv in args.env)
        if args.kv_cache_size:
            env.setdefault("NIM_KV_CACHE_SIZE", args.kv_cache_size)
        names = {"language": rl.LLM_NAME, "embedding": rl.EMBEDDER_NAME, "ranking": rl.RANKER_NAME}
        proc, base = rl.start_server(args.bin, [args.model, args.embedder, args.ranker],
                                     [names["language"], names["embedding"], names["ranking"]], args.log, env)
        pid = proc.pid
        print(f"started nimbus serve (pid {pid}) at {base}; log {args.log}", flush=True)
    print(f"soak: {args.minutes} min, {args.workers} workers, a line every {args.sample_interval:g} s, "
          f"warm-up {args.warmup:g} s", flush=True)
    try:
        report = Soak(args, base, pid, names).run()
    finally:
        if proc:
            code = rl.stop_server(proc)
            print(f"server exit status {code}", flush=True)
    print(f"\nrequests: {report['requests']['finished']} finished of {report['requests']['started']} started; "
          f"outcomes {report['requests']['outcomes']}")
    warm, final = report["warm"], report["final"]
    if warm and final:
        print(f"post-warm-up -> end (idle): rss {warm['rss_mib']:.1f} -> {final['rss_mib']:.1f} MiB, "
              f"fds {warm['fds']} -> {final['fds']}, threads {warm['threads']} -> {final['threads']}")
    print(f"RSS slope after the warm-up: {report['rss_slope_mib_per_min']} MiB/min over {report['rss_samples_after_warmup']} samples")
    print(f"after the load: {report['after_load']}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
        print(f"report: {args.report}")
    for p in report["problems"]:
        print(f"FAIL: {p['reason']}")
        for e in p["examples"]:
            print(f"      {e}")
    print("PASS" if report["passed"] else "FAIL")
    sys.exit(0 if report["passed"] else 1)


if __name__ == "__main__":
    main()
