#!/usr/bin/env bash
# Serving benchmark: the same `nimbus bench` sweep against `nimbus serve` and then against
# llama-cpp-python's OpenAI server (`python3 -m llama_cpp.server`) on the same GGUF, one after
# the other on the same machine, printing both tables.
#
# Usage: scripts/bench_serving.sh [MODEL.gguf]
# Environment: NIMBUS_BIN (default .build/release/nimbus), CONCURRENCY (1,4,8,16), INPUT_TOKENS (128),
# OUTPUT_TOKENS (128), REQUESTS (default: nimbus bench's, max(8, 2 × concurrency)), THREADS (all cores),
# OUT (.build/bench-results: one JSON report and one server log per server).
#
# The completions endpoint sends the synthetic prompt as it is: a chat template would put the
# same system prompt in front of every request, a prefix a server could cache.
set -euo pipefail

MODEL=${1:-${NIM_CACHE_PATH:-$HOME/.cache/nimbus}/models/SmolLM2-135M-Instruct.Q4_1.gguf}
BIN=${NIMBUS_BIN:-.build/release/nimbus}
PYTHON=${PYTHON:-python3}
THREADS=${THREADS:-$(nproc)}
OUT=${OUT:-.build/bench-results}
BENCH_ARGS=(--endpoint completions --concurrency "${CONCURRENCY:-1,4,8,16}"
            --input-tokens "${INPUT_TOKENS:-128}" --output-tokens "${OUTPUT_TOKENS:-128}" --warmup 2)
[[ -n ${REQUESTS:-} ]] && BENCH_ARGS+=(--requests "$REQUESTS")

[[ -f $MODEL ]] || { echo "bench_serving: no model at $MODEL (make model fetches it)" >&2; exit 1; }
[[ -x $BIN ]] || { echo "bench_serving: no nimbus binary at $BIN (make build)" >&2; exit 1; }
mkdir -p "$OUT"

SERVER_PID=
stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT
# Exiting from the signal trap runs the EXIT trap, so an interrupted run leaves no server behind.
trap 'exit 130' INT TERM

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until GET URL answers 200: nimbus's readiness probe (it listens while the model loads,
# and /v1/models lists nothing until then), llama.cpp's /v1/models (it loads before it listens).
wait_ready() {
    local url=$1 log=$2
    for _ in $(seq 1 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench_serving: server exited; see $log" >&2; tail -5 "$log" >&2; exit 1; }
        curl -sf -o /dev/null "$url" && return 0
        sleep 0.2
    done
    echo "bench_serving: server at $url not ready after 120 s; see $log" >&2
    exit 1
}

# run_bench NAME URL: the sweep, table on stdout, JSON in $OUT/NAME.json. A failed request makes
# nimbus bench exit 1 after printing its report; the other server is still measured.
run_bench() {
    echo "=== $1 ==="
    "$BIN" bench --url "$2" "${BENCH_ARGS[@]}" --json "$OUT/$1.json" || echo "bench_serving: $1 had failures (exit $?)" >&2
    echo
}

PORT=$(free_port)
"$BIN" serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" --threads "$THREADS" --log-level WARNING \
    > "$OUT/nimbus-serve.log" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/v1/health/ready" "$OUT/nimbus-serve.log"
run_bench nimbus "http://127.0.0.1:$PORT"
stop_server

if ! "$PYTHON" -c 'import llama_cpp' 2>/dev/null; then
    echo "bench_serving: llama-cpp-python is not installed; only nimbus was measured" >&2
    exit 0
fi
# The server's own dependencies (the package's [server] extra), without rebuilding llama.cpp.
if ! "$PYTHON" -c 'import uvicorn, fastapi, sse_starlette, starlette_context, pydantic_settings, yaml' 2>/dev/null; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check 'uvicorn>=0.22.0' 'fastapi>=0.100.0' \
        'pydantic-settings>=2.0.1' 'sse-starlette>=1.6.1' 'starlette-context>=0.3.6,<0.4' 'PyYAML>=5.1'
fi
PORT=$(free_port)
# One llama.cpp context serves requests one at a time (this server has no parallel slots).
# --interrupt_requests False: by default a new request cuts off the stream in progress.
"$PYTHON" -m llama_cpp.server --model "$MODEL" --host 127.0.0.1 --port "$PORT" \
    --n_threads "$THREADS" --n_threads_batch "$THREADS" --n_ctx 2048 --n_batch 512 \
    --interrupt_requests False --verbose False > "$OUT/llama-cpp-server.log" 2>&1 &
SERVER_PID=$!
wait_ready "http://127.0.0.1:$PORT/v1/models" "$OUT/llama-cpp-server.log"
run_bench llama-cpp-python "http://127.0.0.1:$PORT"
stop_server
