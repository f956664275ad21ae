#!/usr/bin/env python3
"""How far prompt lookup can speed up the committed speculation workload, by replaying it.

Greedy answers come from `nimbus serve` with `"speculative": false`; the chat prompt is rendered
by jinja2 from the GGUF's own template, and prompt and answer are tokenized by llama.cpp's
tokenizer (llama-cpp-python, vocabulary only). A re-tokenized answer can differ from the
generated ids by a token here and there, which is noise at this level.

Each answer is then replayed as the engine decodes it: the first token comes from the prefill;
after it, a step verifies the draft a policy proposes (at most MAX_DRAFT tokens, and never past
max_tokens), yields the accepted prefix plus one token, and costs 1 + ROW_COST x (draft length)
one-row steps (the engine measures ROW_COST on its host: /v1/status `speculation.row_cost`).
Printed per policy: decode tokens per unit of cost over plain decoding, the median over tasks
and their geometric mean.

  engine    what the engine does (PromptLookup and DraftLength in
            Sources/NimbusEngine/Speculation), replayed here;
  ceiling   a greedy oracle: each step takes the engine's lookup draft cut to exactly the tokens
            that will be accepted (it knows the answer). It bounds length policies over this
            lookup step by step (a different cut could, in principle, lead to better matches
            later), not every possible drafter.

Usage: lookup_ceiling.py MODEL.gguf [--row-cost 0.15] [--max-draft 8] [--bin .build/release/nimbus]
       [--port 8127]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_speculation import WORKLOAD, wait_ready  # noqa: E402


def lookup(tokens, count, shortest=2, longest=4):
    """PromptLookup.draft: the tokens after the latest earlier occurrence of the longest suffix."""
    n = min(longest, len(tokens) - 1)
    while n >= shortest:
        suffix = tokens[len(tokens) - n:]
        for start in range(len(tokens) - n - 1, -1, -1):
            if tokens[start:start + n] == suffix:
                return tokens[start + n:start + n + count]
        n -= 1
    return []


class DraftLength:
    """DraftLength.swift: the length that maximises expected tokens per cost, from a decayed
    per-token acceptance estimate; a probe of one token every 16 steps once drafting stops."""

    def __init__(self, maximum=8):
        self.maximum, self.accepted, self.tried, self.idle = maximum, 1.0, 2.0, 0

    def next(self, row_cost):
        a = min(self.accepted / self.tried, 0.999)
        best, best_value, expected, power = 0, 1.0, 1.0, 1.0
        for k in range(1, self.maximum + 1):
            power *= a
            expected += power
            if expected / (1 + row_cost * k) > best_value:
                best, best_value = k, expected / (1 + row_cost * k)
        if best:
            return best
        self.idle += 1
        if self.idle >= 16:
            self.idle = 0
            return 1
        return 0

    def record(self, proposed, matched):
        if proposed <= 0:
            return
        trials = matched + 1 if matched < proposed else matched
        keep = 0.8 ** trials
        self.accepted = self.accepted * keep + matched
        self.tried = self.tried * keep + trials


def replay(prompt, answer, policy, row_cost, max_draft, max_tokens):
    """Decode tokens per unit of cost (a one-row step costs 1) under `policy`, the answer's first
    token taken from the prefill as in the engine."""
    context, done, cost, lengths = list(prompt) + answer[:1], 1, 0.0, DraftLength(max_draft)
    while done < len(answer):
        # As ChoiceState: the token sampled after the draft counts against max_tokens too.
        room = min(max_draft, max_tokens - done - 1)
        draft = policy(context, answer[done:], lengths, row_cost)[:max(0, room)]
        accepted = 0
        while accepted < len(draft) and done + accepted < len(answer) and draft[accepted] == answer[done + accepted]:
            accepted += 1
        lengths.record(len(draft), accepted)
        step = min(accepted + 1, len(answer) - done)
        context += answer[done:done + step]
        done += step
        cost += 1 + row_cost * len(draft)
    return (len(answer) - 1) / cost if cost else float("nan")


def engine(context, _future, lengths, row_cost):
    k = lengths.next(row_cost)
    return lookup(context, k) if k else []


def ceiling(context, future, lengths, _row_cost):
    draft = lookup(context, lengths.maximum)
    accepted = 0
    while accepted < len(draft) and accepted < len(future) and draft[accepted] == future[accepted]:
        accepted += 1
    return draft[:accepted]


def answers(a, workload):
    """(kind, name, prompt ids, answer ids) for every task, from one nimbus serve."""
    import http.client
    import jinja2
    from gguf import GGUFReader
    from llama_cpp import Llama

    field = GGUFReader(a.model).fields["tokenizer.chat_template"]
    template = jinja2.Environment().from_string(bytes(field.parts[field.data[0]]).decode())
    vocab = Llama(model_path=a.model, vocab_only=True, verbose=False)
    env = dict(os.environ, NIM_MODEL_NAME=a.model, NIM_SERVED_MODEL_NAME="default", NIM_SERVER_PORT=str(a.port),
               NIM_NUM_THREADS="2", NIM_LOG_LEVEL="WARNING")
    server = subprocess.Popen([a.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_ready(a.port, server)
        for kind in ("grounded", "open"):
            for task in workload[kind]:
                body = {"model": "default", "messages": task["messages"], "max_tokens": workload["max_tokens"],
                        "temperature": 0, "speculative": False}
                conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=600)
                conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
                reply = json.loads(conn.getresponse().read())
                text = reply["choices"][0]["message"]["content"]
                rendered = template.render(messages=task["messages"], add_generation_prompt=True, bos_token="", eos_token="")
                rows.append((kind, task["name"], vocab.tokenize(rendered.encode(), add_bos=False, special=True),
                             vocab.tokenize(text.encode(), add_bos=False, special=False)))
    finally:
        server.terminate()
        server.wait()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--row-cost", type=float, default=0.15)
    ap.add_argument("--max-draft", type=int, default=8, help="NIM_SPECDEC_ARGS num_speculative_tokens")
    ap.add_argument("--bin", default=os.path.join(HERE, "..", ".build", "release", "nimbus"))
    ap.add_argument("--port", type=int, default=8127)
    a = ap.parse_args()
    workload = json.load(open(WORKLOAD))
    rows = answers(a, workload)
    print(f"{os.path.basename(a.model)}, row cost {a.row_cost}, drafts of at most {a.max_draft}: "
          f"speed-up over plain decoding, replayed")
    for name, policy in (("engine", engine), ("ceiling", ceiling)):
        for kind in ("grounded", "open"):
            gains = [replay(p, t, policy, a.row_cost, a.max_draft, workload["max_tokens"])
                     for k, _, p, t in rows if k == kind and len(t) > 1]
            print(f"  {name:8s} {kind:8s} median {statistics.median(gains):.2f}x, geometric mean "
                  f"{statistics.geometric_mean(gains):.2f}x  ({' '.join(f'{g:.2f}' for g in gains)})")


if __name__ == "__main__":
    main()
