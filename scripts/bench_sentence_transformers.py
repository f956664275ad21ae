#!/usr/bin/env python3
"""Sentences/s of sentence-transformers (PyTorch CPU) on an encoder folder, for the same batches
of the same short sentences as `nimbus bench-embeddings`, so the two compare in one run.

Usage: bench_sentence_transformers.py MODEL_DIR [--batches 1,8,32] [--seconds 3] [--threads N]
Needs `pip install sentence-transformers`; exits with a note (status 0) when it is missing.
"""
import argparse
import os
import sys
import time

# The same sentences as Sources/nimbus/BenchEmbeddings.swift.
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street corner.",
    "What is the capital city of France?",
    "Deep learning models need a lot of training data.",
    "The weather is lovely today, let us go for a walk.",
    "Stock markets fell sharply after the announcement.",
    "She bought fresh bread and cheese at the market.",
    "How do I reset my password on this website?",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers is not installed; skipping its benchmark", file=sys.stderr)
        return
    torch.set_num_threads(args.threads)
    model = SentenceTransformer(args.model, device="cpu")
    print(f"sentence-transformers {torch.__version__} threads={args.threads}")
    for size in [int(b) for b in args.batches.split(",")]:
        batch = [SENTENCES[i % len(SENTENCES)] for i in range(size)]
        model.encode(batch, batch_size=size)
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            model.encode(batch, batch_size=size)
            done += size
        print(f"batch {size:3d}: {done / (time.perf_counter() - start):8.1f} sentences/s")


if __name__ == "__main__":
    main()
