#!/usr/bin/env python3
"""What metrics and tracing cost: generation throughput at 16 concurrent streams with both off
and both on (spans exported to a loopback OTLP receiver, /v1/metrics scraped every second), with
`nimbus bench` as the load (or Python clients, --client python).

Runs the two configurations in alternating rounds so that drift in the machine's load hits both
alike, and prints each round and the medians of throughput and of the server's CPU time per
generated token (the steadier figure on a shared machine).

    python3 scripts/bench_observability.py --bin .build/release/nimbus --model MODEL.gguf [--rounds 5]
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
    """One streamed completion of exactly `max_tokens` tokens (ignore_eos), read as raw bytes so
    that the client spends as little of the shared CPU as possible."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"model": SERVED, "prompt": f"Story number {i}: once upon a time", "max_tokens": max_tokens,
                       "ignore_eos": True, "stream": True})
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    connection.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    tail = b""
    while b"data: [DONE]" not in tail:
        chunk = response.read1(65536)
        if not chunk:
            raise RuntimeError("stream ended without [DONE]")
        tail = (tail + chunk)[-64:]
    connection.close()
    return max_tokens


def cpu_seconds(pid):
    """User plus system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base, pid, streams, seconds, max_tokens, scrape):
    """(tokens/s, server CPU ms per token) with `streams` clients always busy for `seconds`."""
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
    cpu_before, start_time = cpu_seconds(pid), time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.time() - start_time, cpu_seconds(pid) - cpu_before
    tokens = sum(counts)
    return tokens / elapsed, 1000 * cpu / tokens


def measure_with_nimbus_bench(binary, base, pid, streams, requests_count, max_tokens, scrape):
    """(output tokens/s, server CPU ms per token) as `nimbus bench` measures one level."""
    stop = threading.Event()

    def scraper():
        while not stop.wait(1):
            requests.get(base + "/v1/metrics", timeout=10)

    thread = threading.Thread(target=scraper)
    if scrape:
        thread.start()
    cpu_before = cpu_seconds(pid)
    result = subprocess.run([binary, "bench", "--url", base, "--endpoint", "completions", "--concurrency", str(streams),
                             "--requests", str(requests_count), "--input-tokens", "64", "--output-tokens", str(max_tokens),
                             "--format", "json"], capture_output=True, text=True, check=True)
    cpu = cpu_seconds(pid) - cpu_before
    stop.set()
    if scrape:
        thread.join()
    level = json.loads(result.stdout)["levels"][0]
    assert level["failed"] == 0, level["first_error"]
    tokens = level["completed"] * level["mean_output_tokens"]
    return level["output_token_throughput"], 1000 * cpu / tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=".build/release/nimbus")
    parser.add_argument("--model", default=os.path.expanduser("~/.cache/nimbus/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", help="NIM_NUM_THREADS; 1 keeps spinning compute workers out of the CPU figures")
    parser.add_argument("--client", choices=["python", "nimbus-bench"], default="nimbus-bench",
                        help="the load: `nimbus bench` (one level, --requests requests), or Python clients for --seconds")
    parser.add_argument("--requests", type=int, default=96, help="requests per measurement with nimbus-bench")
    args = parser.parse_args()
    rates = {"off": [], "on": []}
    costs = {"off": [], "on": []}
    with OTLPReceiver() as receiver:
        configurations = {
            "off": {"NIM_ENABLE_METRICS": "false", "NIM_ENABLE_TRACING": "false"},
            "on": {"NIM_ENABLE_METRICS": "true", "NIM_ENABLE_TRACING": "true",
                   "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SERVICE_NAME": "bench"},
        }
        if args.threads:
            for env in configurations.values():
                env["NIM_NUM_THREADS"] = args.threads
        for round_number in range(args.rounds):
            # Alternate which configuration goes first, so neither always follows the other.
            order = list(configurations.items()) if round_number % 2 == 0 else list(configurations.items())[::-1]
            for name, env in order:
                proc, base = start(args.bin, args.model, 18000 + round_number * 2 + (name == "on"), env)
                try:
                    if args.client == "nimbus-bench":
                        rate, cost = measure_with_nimbus_bench(args.bin, base, proc.pid, args.streams, args.requests,
                                                               args.max_tokens, scrape=name == "on")
                    else:
                        measure(base, proc.pid, args.streams, 3, args.max_tokens, scrape=False)  # warm-up
                        rate, cost = measure(base, proc.pid, args.streams, args.seconds, args.max_tokens,
                                             scrape=name == "on")
                finally:
                    proc.terminate()
                    proc.wait(30)
                rates[name].append(rate)
                costs[name].append(cost)
                print(f"round {round_number + 1} {name:>3}: {rate:7.1f} tokens/s, {cost:.3f} CPU ms/token", flush=True)
        spans = len(receiver.spans)
    off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
    cost_off, cost_on = statistics.median(costs["off"]), statistics.median(costs["on"])
    print(f"median throughput off {off:.1f}, on {on:.1f} tokens/s ({100 * (on - off) / off:+.2f}%); "
          f"server CPU per token off {cost_off:.3f}, on {cost_on:.3f} ms ({100 * (cost_on - cost_off) / cost_off:+.2f}%); "
          f"{args.streams} streams x {args.max_tokens} tokens, {spans} spans received")


if __name__ == "__main__":
    main()
