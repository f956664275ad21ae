#!/usr/bin/env python3
"""Cold start of `nimbus serve`: seconds from process start to GET /v1/health/ready == 200.

Usage: cold_start.py [--bin .build/release/nimbus] [--runs 5] [-- extra serve arguments]

Each run starts the binary on a free loopback port with the default model from the cache
(NIM_CACHE_PATH or ~/.cache/nimbus, or --model), polls /v1/health/ready every millisecond over
a raw socket, and stops the server. Prints every run, the model's own load time from the
server's "model loaded" log line, and the median. The page cache is warm after the first run
(as it is for a restarted container on the same node); the first run is reported too.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    """One GET /v1/health/ready over a fresh connection; True on 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /v1/health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one_run(binary, extra, timeout):
    port = free_port()
    env = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_LOG_LEVEL="INFO")
    with tempfile.TemporaryFile("w+") as log:
        start = time.monotonic()
        proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", *extra], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while not ready(port):
                if proc.poll() is not None:
                    log.seek(0)
                    sys.exit(f"cold_start: nimbus exited with {proc.returncode}:\n{log.read()}")
                if time.monotonic() - start > timeout:
                    sys.exit(f"cold_start: not ready after {timeout} s")
                time.sleep(0.001)
            elapsed = time.monotonic() - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        log.seek(0)
        # Logged as `... seconds=0.043 ... model loaded` (metadata first, then the message).
        loads = [float(m) for m in re.findall(r"seconds=([0-9.]+)[^\n]*model loaded", log.read())]
    return elapsed, loads


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=".build/release/nimbus")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("extra", nargs="*", help="arguments for `nimbus serve` (after --)")
    args = parser.parse_args()
    times = []
    for i in range(args.runs):
        elapsed, loads = one_run(args.bin, args.extra, args.timeout)
        times.append(elapsed)
        load_text = ", ".join(f"{x * 1000:.0f} ms" for x in loads) or "?"
        print(f"run {i + 1}: ready after {elapsed * 1000:.0f} ms (model load: {load_text})")
    print(f"median of {args.runs}: {statistics.median(times) * 1000:.0f} ms to /v1/health/ready == 200")


if __name__ == "__main__":
    main()
