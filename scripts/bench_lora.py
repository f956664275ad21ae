#!/usr/bin/env python3
"""Per-request LoRA under continuous batching: adapters against the base model, in one run.

Writes RANK-r random PEFT adapters for MODEL (every projection of every layer, fixed seeds; the
shapes come from the GGUF's metadata, so no `peft` is needed), starts `nimbus serve` with
NIM_PEFT_SOURCE pointing at them, and measures, alternating within each round:
  - 16 concurrent streams on the base model vs 16 streams spread over 4 adapters (4 each):
    output tokens per second over the whole burst;
  - one stream on the base model vs one on an adapter: decode tok/s as a user sees it
    ((completion tokens - 1) / (last token time - first token time));
  - adapter load time, from the server's "LoRA adapter loaded" log lines.
Greedy, ignore_eos, the same prompts for every configuration.

Usage: bench_lora.py [MODEL.gguf] [--rounds 3] [--rank 16] [--tokens 128] [--threads 2]
       [--bin .build/release/nimbus] [--port 8125] [--json out.json]
Needs numpy and gguf (PyPI).
"""
import argparse
import http.client
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

PROMPTS = [
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Explain how a refrigerator works to a ten-year-old.",
    "List the steps to bake sourdough bread at home.",
    "Describe the water cycle in a few paragraphs.",
]


def model_shape(path):
    import gguf
    reader = gguf.GGUFReader(path)

    def value(key):
        field = reader.fields[key]
        return field.parts[field.data[0]][0]
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    dim = int(value(f"{arch}.embedding_length"))
    heads = int(value(f"{arch}.attention.head_count"))
    kv = int(value(f"{arch}.attention.head_count_kv")) if f"{arch}.attention.head_count_kv" in reader.fields else heads
    return dict(layers=int(value(f"{arch}.block_count")), dim=dim, ff=int(value(f"{arch}.feed_forward_length")),
                q=dim, kv=kv * (dim // heads))


def write_adapter(folder, shape, rank, seed):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    dims = {"q_proj": ("self_attn", shape["dim"], shape["q"]), "k_proj": ("self_attn", shape["dim"], shape["kv"]),
            "v_proj": ("self_attn", shape["dim"], shape["kv"]), "o_proj": ("self_attn", shape["q"], shape["dim"]),
            "gate_proj": ("mlp", shape["dim"], shape["ff"]), "up_proj": ("mlp", shape["dim"], shape["ff"]),
            "down_proj": ("mlp", shape["ff"], shape["dim"])}
    tensors = {}
    for layer in range(shape["layers"]):
        for name, (block, inputs, outputs) in dims.items():
            prefix = f"base_model.model.model.layers.{layer}.{block}.{name}."
            tensors[prefix + "lora_A.weight"] = (rng.standard_normal((rank, inputs)) / np.sqrt(inputs)).astype(np.float32)
            tensors[prefix + "lora_B.weight"] = (rng.standard_normal((outputs, rank)) * 0.01).astype(np.float32)
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(folder, "adapter_model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": 2 * rank, "target_modules": list(dims)}, f)


def stream(port, model, prompt, tokens, out, index):
    body = {"model": model, "prompt": prompt, "max_tokens": tokens, "temperature": 0, "ignore_eos": True,
            "stream": True, "stream_options": {"include_usage": True}}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:300]!r}")
    count, first, last = 0, None, None
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            count = chunk["usage"]["completion_tokens"]
        if any(c.get("text") for c in chunk.get("choices", [])):
            now = time.perf_counter()
            first = first or now
            last = now
    conn.close()
    out[index] = (count, first, last)


def burst(port, models, tokens):
    """Concurrent streams, one per entry of `models`; returns output tokens per second."""
    out = [None] * len(models)
    threads = [threading.Thread(target=stream, args=(port, m, PROMPTS[i % len(PROMPTS)], tokens, out, i))
               for i, m in enumerate(models)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return sum(o[0] for o in out) / elapsed


def single(port, model, tokens):
    out = [None]
    stream(port, model, PROMPTS[0], tokens, out, 0)
    count, first, last = out[0]
    return (count - 1) / (last - first)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", default=os.path.expanduser("~/.cache/nimbus/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bin", default=os.path.join(here, "..", ".build", "release", "nimbus"))
    parser.add_argument("--port", type=int, default=8125)
    parser.add_argument("--json")
    args = parser.parse_args()

    shape = model_shape(args.model)
    source = tempfile.mkdtemp(prefix="nimbus-lora-bench-")
    names = [f"adapter{i}" for i in range(4)]
    for i, name in enumerate(names):
        write_adapter(os.path.join(source, name), shape, args.rank, seed=100 + i)
    env = dict(os.environ, NIM_MODEL_NAME=args.model, NIM_SERVED_MODEL_NAME="base", NIM_PEFT_SOURCE=source,
               NIM_SERVER_PORT=str(args.port), NIM_NUM_THREADS=str(args.threads))
    log = tempfile.NamedTemporaryFile(prefix="nimbus-lora-bench-", suffix=".log", delete=False)
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                conn.request("GET", "/v1/health/ready")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("the server did not become ready; see " + log.name)
        burst(args.port, ["base"] * 4 + names, 16)  # warm-up
        rows = []
        for r in range(args.rounds):
            base16 = burst(args.port, ["base"] * 16, args.tokens)
            mixed16 = burst(args.port, [names[i % 4] for i in range(16)], args.tokens)
            base1 = single(args.port, "base", args.tokens)
            lora1 = single(args.port, names[0], args.tokens)
            rows.append(dict(base16=base16, mixed16=mixed16, base1=base1, lora1=lora1))
            print(f"round {r + 1}: 16 streams base {base16:.1f} tok/s, over 4 adapters {mixed16:.1f} ({mixed16 / base16:.2f}x); "
                  f"1 stream base {base1:.1f}, adapter {lora1:.1f} ({lora1 / base1:.2f}x)", flush=True)
    finally:
        server.terminate()
        server.wait()
    loads = [float(m) for m in re.findall(r"milliseconds=([0-9.]+)[^\n]*LoRA adapter loaded", open(log.name).read())]
    summary = {
        "model": os.path.basename(args.model), "rank": args.rank, "rounds": rows,
        "mixed16_over_base16": statistics.median(r["mixed16"] / r["base16"] for r in rows),
        "lora1_over_base1": statistics.median(r["lora1"] / r["base1"] for r in rows),
        "adapter_load_ms": loads,
    }
    print(f"median: 16 streams over 4 adapters / base = {summary['mixed16_over_base16']:.2f}x; "
          f"1 stream adapter / base = {summary['lora1_over_base1']:.2f}x; adapter load (r={args.rank}) ms: {loads}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
