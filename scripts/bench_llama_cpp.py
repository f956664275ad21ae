#!/usr/bin/env python3
"""llama.cpp's single-stream prefill and decode tokens/s on a GGUF, through llama-cpp-python.

Mirrors `nimbus bench-engine`: the same repeated prompt, 512 prompt tokens, 128 greedy decode
tokens from an 8-token prompt, the same thread count, one warm-up then N measured runs.
Usage: bench_llama_cpp.py MODEL.gguf [--threads N] [--runs N] [--json]
"""
import argparse
import json
import statistics
import time

import numpy as np
from llama_cpp import Llama

TEXT = "The quick brown fox jumps over the lazy dog while the scientists measure the speed of light. "


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    llm = Llama(model_path=a.model, n_ctx=a.prompt_tokens + a.decode_tokens + 16, n_batch=512,
                n_threads=a.threads, n_threads_batch=a.threads, flash_attn=False, verbose=False)
    prompt = []
    while len(prompt) < a.prompt_tokens:
        prompt += llm.tokenize(TEXT.encode(), add_bos=False, special=False)
    prompt = prompt[: a.prompt_tokens]
    n_vocab = llm.n_vocab()
    prefill, decode = [], []
    for run in range(a.runs + 1):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        tp = time.perf_counter() - t0
        llm.reset()
        llm.eval(prompt[:8])
        t1 = time.perf_counter()
        for _ in range(a.decode_tokens):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))
            llm.eval([int(np.argmax(logits))])
        td = time.perf_counter() - t1
        if run > 0:
            prefill.append(a.prompt_tokens / tp)
            decode.append(a.decode_tokens / td)
    stats = lambda v: {"min": min(v), "median": statistics.median(v), "max": max(v)}
    if a.json:
        print(json.dumps({"engine": "llama.cpp", "threads": a.threads, "prefill_tps": stats(prefill), "decode_tps": stats(decode)}))
    else:
        p, d = stats(prefill), stats(decode)
        print(f"llama.cpp threads={a.threads} runs={a.runs}")
        print(f"prefill {a.prompt_tokens:4d} tokens: {p['median']:8.1f} tok/s median (min {p['min']:.1f}, max {p['max']:.1f})")
        print(f"decode  {a.decode_tokens:4d} tokens: {d['median']:8.1f} tok/s median (min {d['min']:.1f}, max {d['max']:.1f})")


if __name__ == "__main__":
    main()
