#!/usr/bin/env python3
"""What metrics and tracing cost: generation throughput at 16 concurrent streams with both off
and both on (spans exported to a loopback OTLP receiver, /v1/metrics scraped every second).

Runs the two configurations in alternating rounds so that drift in the machine's load hits both
alike, and prints each round and the medians.

    python3 scripts/bench_observability.py --bin .build/release/nimbus --model MODEL.gguf [--rounds 5]
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from otlp_receiver import OTLPReceiver  # noqa: E402

SERVED = "bench"


def start(binary, model, port, env):
    environment = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_MODEL_NAME=model, NIM_SERVED_MODEL_NAME=SERVED,
                       NIM_MAX_MODEL_LEN="2048", NIM_LOG_LEVEL="WARNING", **env)
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1"], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(base + "/v1/health/ready", timeout=1).status_code == 200:
                return proc, base
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def stream_once(base, i, max_tokens):
    body = {"model": SERVED, "prompt": f"Story number {i}: once upon a time", "max_tokens": max_tokens,
            "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}
    tokens = 0
    with requests.post(base + "/v1/completions", json=body, stream=True, timeout=300) as r:
        for line in r.iter_lines():
            if line.startswith(b'data: {"') and b'"usage":{' in line:
                tokens = int(line.split(b'"completion_tokens":')[1].split(b",")[0].split(b"}")[0])
    return tokens


def measure(base, streams, seconds, max_tokens, scrape):
    """Completion tokens per second over `seconds` with `streams` clients always busy."""
    stop = time.time() + seconds
    counts = [0] * streams

    def client(k):
        n = 0
        while time.time() < stop:
            counts[k] += stream_once(base, k * 1000 + n, max_tokens)
            n += 1

    def scraper():
        while time.time() < stop:
            requests.get(base + "/v1/metrics", timeout=10)
            time.sleep(1)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(streams)]
    if scrape:
        threads.append(threading.Thread(target=scraper))
    start_time = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.time() - start_time)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=".build/release/nimbus")
    parser.add_argument("--model", default=os.path.expanduser("~/.cache/nimbus/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    results = {"off": [], "on": []}
    with OTLPReceiver() as receiver:
        configurations = {
            "off": {"NIM_ENABLE_METRICS": "false", "NIM_ENABLE_TRACING": "false"},
            "on": {"NIM_ENABLE_METRICS": "true", "NIM_ENABLE_TRACING": "true",
                   "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SERVICE_NAME": "bench"},
        }
        for round_number in range(args.rounds):
            for name, env in configurations.items():
                proc, base = start(args.bin, args.model, 18000 + round_number * 2 + (name == "on"), env)
                try:
                    measure(base, args.streams, 3, args.max_tokens, scrape=False)  # warm-up
                    rate = measure(base, args.streams, args.seconds, args.max_tokens, scrape=name == "on")
                finally:
                    proc.terminate()
                    proc.wait(30)
                results[name].append(rate)
                print(f"round {round_number + 1} {name:>3}: {rate:7.1f} tokens/s", flush=True)
        spans = len(receiver.spans)
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    print(f"median off {off:.1f} tokens/s, on {on:.1f} tokens/s: {100 * (on - off) / off:+.2f}% "
          f"({args.streams} streams, {args.max_tokens} tokens each, {spans} spans received)")


if __name__ == "__main__":
    main()
