#!/usr/bin/env python3
"""Nimbus against llama.cpp in alternating rounds, for ratios that survive a noisy shared host.

`nimbus bench-engine --compare-llama-cpp` runs all of Nimbus's runs, then all of llama.cpp's: when
the host's memory bandwidth or free cores change between the two halves (they do, by 2x within
minutes on the shared 2-core machines), the ratio measures the host. Here each round runs one
Nimbus measurement (`bench-engine --runs 1 --json`, after its own warm-up) and then one llama.cpp
measurement (`bench_llama_cpp.py --runs 1 --json`), and the ratio is taken within the round; the
median of the per-round ratios is the figure to quote, min and max show the spread.

Usage: bench_paired.py MODEL.gguf [--rounds 5] [--threads 2] [--bin .build/release/nimbus]
       [--prompt-tokens 512] [--decode-tokens 128]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(HERE, "..", ".build", "release", "nimbus"))
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--decode-tokens", type=int, default=128)
    a = ap.parse_args()
    counts = ["--prompt-tokens", str(a.prompt_tokens), "--decode-tokens", str(a.decode_tokens)]
    nimbus_cmd = [a.bin, "bench-engine", "--model", a.model, "--runs", "1", "--threads", str(a.threads),
                  "--batch-sequences", "", "--json"] + counts
    llama_cmd = [sys.executable, os.path.join(HERE, "bench_llama_cpp.py"), a.model, "--runs", "1",
                 "--threads", str(a.threads), "--json"] + counts
    rows = []
    for r in range(a.rounds):
        n = run_json(nimbus_cmd)
        l = run_json(llama_cmd)
        row = {k: (n[f"{k}_tps"]["median"], l[f"{k}_tps"]["median"]) for k in ("prefill", "decode")}
        rows.append(row)
        print(f"round {r + 1}: prefill {row['prefill'][0]:7.1f} / {row['prefill'][1]:7.1f} tok/s "
              f"({row['prefill'][0] / row['prefill'][1]:.2f}x)   decode {row['decode'][0]:6.1f} / "
              f"{row['decode'][1]:6.1f} ({row['decode'][0] / row['decode'][1]:.2f}x)", flush=True)
    print(f"{os.path.basename(a.model)}, {a.threads} threads, {a.rounds} alternating rounds (Nimbus / llama.cpp):")
    for k in ("prefill", "decode"):
        ratios = sorted(x[k][0] / x[k][1] for x in rows)
        med = lambda i: statistics.median(x[k][i] for x in rows)
        print(f"  {k:7s} {med(0):8.1f} / {med(1):8.1f} tok/s   ratio median {statistics.median(ratios):.2f}x "
              f"(min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x)")


if __name__ == "__main__":
    main()
