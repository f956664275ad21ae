#!/usr/bin/env python3
"""Structured output's cost in a running `nimbus serve`: output tokens per second of the same
prompts with and without a JSON Schema constraint, one stream and 16 concurrent streams,
alternating within each round (the host is shared and noisy, so only in-round ratios count).

    python3 scripts/bench_structured.py --base http://127.0.0.1:8000 --rounds 3
    python3 scripts/bench_structured.py --model MODEL.gguf --bin .build/release/nimbus  # starts one

The prompts show the schema to the model in both modes, so both write similar JSON; the
constrained mode adds `response_format: json_schema`. Ratios > 1 mean constrained is faster.
"""
import argparse
import concurrent.futures as cf
import glob
import json
import os
import statistics
import time

import socket
import subprocess

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "../tests/e2e/structured/schemas")
NAMES = ["pydantic_user", "product_catalog", "openai_calendar_event", "support_ticket", "recipe", "weather_forecast",
         "entity_extraction", "nested_order"]


def load_schemas():
    found = {os.path.basename(p)[:-5]: json.load(open(p)) for p in glob.glob(os.path.join(SCHEMAS, "*.json"))}
    return [(n, found[n]) for n in NAMES if n in found] or sorted(found.items())[:8]


SPECULATIVE = True


def run(base, model, schema, constrained, max_tokens):
    prompt = "Reply with one JSON object that follows this JSON Schema, and nothing else.\n" + json.dumps(schema)
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0,
            "speculative": SPECULATIVE}
    if constrained:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "bench", "schema": schema}}
    start = time.perf_counter()
    reply = requests.post(base + "/v1/chat/completions", json=body, timeout=600).json()
    return reply["usage"]["completion_tokens"], time.perf_counter() - start


def rate(base, model, schemas, constrained, streams, max_tokens):
    jobs = [schemas[i % len(schemas)][1] for i in range(max(streams, len(schemas)))]
    start = time.perf_counter()
    if streams == 1:
        results = [run(base, model, s, constrained, max_tokens) for s in jobs]
    else:
        with cf.ThreadPoolExecutor(streams) as pool:
            results = list(pool.map(lambda s: run(base, model, s, constrained, max_tokens), jobs))
    return sum(tokens for tokens, _ in results) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--model", help="start `nimbus serve` on this GGUF file instead of using --base")
    parser.add_argument("--bin", default=".build/release/nimbus")
    parser.add_argument("--no-speculation", action="store_true", help='send "speculative": false in both modes')
    args = parser.parse_args()
    global SPECULATIVE
    SPECULATIVE = not args.no_speculation
    server = None
    if args.model:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([args.bin, "serve", "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, NIM_MODEL_NAME=args.model, NIM_SERVER_PORT=str(port)))
        args.base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if requests.get(args.base + "/v1/health/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
    try:
        measure(args)
    finally:
        if server:
            server.terminate()
            server.wait()


def measure(args):
    model = requests.get(args.base + "/v1/models").json()["data"][0]["id"]
    schemas = load_schemas()
    run(args.base, model, schemas[0][1], True, 16)  # warm-up
    report = {}
    for streams in (1, 16):
        ratios, plain_rates, constrained_rates = [], [], []
        for r in range(args.rounds):
            # Alternate which mode goes first so drift does not favour one.
            order = (False, True) if r % 2 == 0 else (True, False)
            rates = {mode: rate(args.base, model, schemas, mode, streams, args.max_tokens) for mode in order}
            plain_rates.append(rates[False])
            constrained_rates.append(rates[True])
            ratios.append(rates[True] / rates[False])
        report[streams] = dict(constrained_tok_s=statistics.median(constrained_rates), plain_tok_s=statistics.median(plain_rates),
                               ratio=statistics.median(ratios), ratio_min=min(ratios), ratio_max=max(ratios))
    if args.json:
        print(json.dumps(report))
        return
    for streams, r in report.items():
        print(f"{streams:>2} stream(s): constrained {r['constrained_tok_s']:.1f} tok/s, plain {r['plain_tok_s']:.1f} tok/s, "
              f"constrained/plain {r['ratio']:.2f}x ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}x)")


if __name__ == "__main__":
    main()
