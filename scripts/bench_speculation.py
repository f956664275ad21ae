#!/usr/bin/env python3
"""Speculative decoding (prompt lookup) against plain decoding and against llama.cpp, in one run.

Starts `nimbus serve` on MODEL (speculation on, as by default) and loads the same file in
llama-cpp-python. The committed workload (bench/speculation_workload.json) has grounded tasks
(correct, rewrite or edit a given text, quote a passage) and open chat prompts, all greedy. In
each round, every prompt runs three ways back to back: Nimbus with speculation, Nimbus with the
request's `"speculative": false`, llama.cpp; the ratios are taken within the round, so a host
that changes speed between rounds does not bias them. Then 16 concurrent open-prompt streams
run with speculation on and off, in ABBA order within each round, and the drafts proposed
during those runs are counted.

Single-stream tok/s is decode speed as a user sees it: (completion tokens - 1) / (time of last
token - time of first token), streamed. Greedy Nimbus output with and without speculation must
be the same text; any difference is reported (it would be a bug).

Usage: bench_speculation.py MODEL.gguf [--rounds 3] [--threads 2] [--bin .build/release/nimbus]
       [--port 8123] [--json out.json] [--no-llama-cpp]
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "..", "bench", "speculation_workload.json")


def stream_chat(port, messages, max_tokens, speculative):
    """Streams one greedy chat completion; returns (text, completion tokens, first, last token time)."""
    body = {"model": "default", "messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}, "speculative": speculative}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:300]!r}")
    text, tokens, first, last = [], 0, None, None
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
        for choice in chunk.get("choices", []):
            piece = choice.get("delta", {}).get("content")
            if piece:
                now = time.perf_counter()
                first = first or now
                last = now
                text.append(piece)
    conn.close()
    return "".join(text), tokens, first, last


def decode_rate(tokens, first, last):
    return (tokens - 1) / (last - first) if tokens > 1 and last and first and last > first else float("nan")


def llama_rate(llm, messages, max_tokens):
    first = last = None
    tokens = 0
    for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0, stream=True):
        if chunk["choices"][0]["delta"].get("content") is not None:
            now = time.perf_counter()
            first = first or now
            last = now
            tokens += 1
    return decode_rate(tokens, first, last)


def concurrent_total(port, prompts, max_tokens, speculative):
    """Total completion tokens/s of len(prompts) simultaneous streams."""
    results = [None] * len(prompts)

    def run(i):
        results[i] = stream_chat(port, prompts[i], max_tokens, speculative)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return sum(r[1] for r in results) / elapsed


def status(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/v1/status")
    return json.loads(conn.getresponse().read())


def wait_ready(port, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("nimbus serve exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v1/health/ready")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("nimbus serve did not become ready")


def summary(values):
    values = sorted(v for v in values if v == v)
    return f"median {statistics.median(values):.2f}x (min {values[0]:.2f}x, max {values[-1]:.2f}x)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(HERE, "..", ".build", "release", "nimbus"))
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--json")
    ap.add_argument("--no-llama-cpp", action="store_true")
    ap.add_argument("--specdec", help="NIM_SPECDEC_ARGS for the server (default: its defaults)")
    ap.add_argument("--kinds", default="grounded,open", help="which prompt sets to run")
    a = ap.parse_args()
    workload = json.load(open(WORKLOAD))
    max_tokens = workload["max_tokens"]
    env = dict(os.environ, NIM_MODEL_NAME=a.model, NIM_SERVED_MODEL_NAME="default", NIM_SERVER_PORT=str(a.port),
               NIM_NUM_THREADS=str(a.threads), NIM_LOG_LEVEL="WARNING")
    if a.specdec:
        env["NIM_SPECDEC_ARGS"] = a.specdec
    kinds = a.kinds.split(",")
    server = subprocess.Popen([a.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    llm = None
    if not a.no_llama_cpp:
        from llama_cpp import Llama
        llm = Llama(model_path=a.model, n_threads=a.threads, n_threads_batch=a.threads, n_ctx=2048, verbose=False)
    try:
        wait_ready(a.port, server)
        rows = {"grounded": [], "open": []}
        mismatches = []
        for r in range(a.rounds):
            for kind in kinds:
                for task in workload[kind]:
                    # Alternate which Nimbus variant goes first, so neither always runs warm.
                    order = (True, False) if (r + len(rows[kind])) % 2 == 0 else (False, True)
                    out = {}
                    for speculative in order:
                        text, tokens, first, last = stream_chat(a.port, task["messages"], max_tokens, speculative)
                        out[speculative] = (text, decode_rate(tokens, first, last), tokens)
                    if out[True][0] != out[False][0]:
                        mismatches.append(task["name"])
                    peer = llama_rate(llm, task["messages"], max_tokens) if llm else float("nan")
                    rows[kind].append({"task": task["name"], "round": r + 1, "speculative": out[True][1],
                                       "plain": out[False][1], "llama_cpp": peer, "tokens": out[True][2]})
                    print(f"round {r + 1} {kind:8s} {task['name']:18s} {out[True][2]:4d} tokens: speculative "
                          f"{out[True][1]:6.1f}  plain {out[False][1]:6.1f}  llama.cpp {peer:6.1f} tok/s", flush=True)
        speculation = status(a.port)["speculation"]
        many = []
        prompts = [workload["open"][i % len(workload["open"])]["messages"] for i in range(a.streams)]
        # One unmeasured run first (it fills the prefix cache), then each round runs the two
        # variants in ABBA order: a drift of the host's speed, or a penalty for going first,
        # falls on both equally.
        if a.streams and a.rounds:
            concurrent_total(a.port, prompts, max_tokens, True)
        before = status(a.port)["speculation"]
        for r in range(a.rounds if a.streams else 0):
            runs = {True: [], False: []}
            for speculative in ((True, False, False, True) if r % 2 == 0 else (False, True, True, False)):
                runs[speculative].append(concurrent_total(a.port, prompts, max_tokens, speculative))
            pair = {k: statistics.mean(v) for k, v in runs.items()}
            many.append(pair)
            print(f"round {r + 1} {a.streams} streams: speculative {pair[True]:6.1f}  plain {pair[False]:6.1f} tok/s total",
                  flush=True)
        after = status(a.port)["speculation"]
        stream_drafts = (after["drafts"] - before["drafts"], after["draft_tokens"] - before["draft_tokens"],
                         after["accepted_tokens"] - before["accepted_tokens"])
    finally:
        server.terminate()
        server.wait()

    print(f"\n{os.path.basename(a.model)}, {a.threads} threads, {a.rounds} rounds, max_tokens {max_tokens}:")
    print(f"  drafts {speculation['drafts']}, draft tokens accepted {speculation['accepted_tokens']} of "
          f"{speculation['draft_tokens']} ({speculation['acceptance_rate'] * 100:.1f} %)")
    for kind in kinds:
        rs = rows[kind]
        med = lambda key: statistics.median(x[key] for x in rs)
        print(f"  {kind:8s} single stream: speculative {med('speculative'):6.1f}, plain {med('plain'):6.1f}, "
              f"llama.cpp {med('llama_cpp'):6.1f} tok/s (medians over tasks and rounds)")
        print(f"           speculative / plain      {summary([x['speculative'] / x['plain'] for x in rs])}")
        if llm:
            print(f"           speculative / llama.cpp  {summary([x['speculative'] / x['llama_cpp'] for x in rs])}")
            print(f"           plain / llama.cpp        {summary([x['plain'] / x['llama_cpp'] for x in rs])}")
    if many:
        print(f"  {a.streams} streams: speculative / plain {summary([p[True] / p[False] for p in many])}; in those runs "
              f"{stream_drafts[0]} drafts, {stream_drafts[2]} of {stream_drafts[1]} draft tokens accepted")
    print(f"  greedy text differs with speculation: {sorted(set(mismatches)) or 'never'}")
    if a.json:
        json.dump({"rows": rows, "streams": [{"speculative": p[True], "plain": p[False]} for p in many],
                   "stream_drafts": dict(zip(("drafts", "draft_tokens", "accepted_tokens"), stream_drafts)) if many else None,
                   "mismatches": mismatches}, open(a.json, "w"), indent=1)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
