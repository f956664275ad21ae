"""NIM_ENABLE_TRACING=true: each request becomes a span tree exported over OTLP/HTTP to a
receiver on loopback. The HTTP span continues the caller's W3C `traceparent`; the generation
span (`chat <model>`) hangs under it, and `queue`, `prefill` and `decode` under that."""
import json
import secrets

import pytest
import requests

from conftest import SERVED_NAME, start_server, stop_server
from metrics_util import poll
from otlp_receiver import OTLPReceiver

SERVER_KIND, INTERNAL_KIND = 2, 1  # opentelemetry.proto.trace.v1.Span.SpanKind


@pytest.fixture(scope="module")
def traced():
    with OTLPReceiver() as receiver:
        proc, base, log = start_server("e2e-server-tracing.log", NIM_ENABLE_TRACING="true",
                                       OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                                       OTEL_SERVICE_NAME="nimbus-e2e", OTEL_BSP_SCHEDULE_DELAY="100")
        yield base, receiver
        stop_server(proc, log)


def complete_trace(receiver, trace_id, count):
    """The spans of `trace_id` once `count` of them arrived (spans come in batches)."""
    spans = poll(lambda: (lambda t: t if len(t) >= count else None)(receiver.trace(trace_id)), timeout=30)
    assert spans, f"only {receiver.trace(trace_id)} arrived"
    return {s.name: s for s in spans}


def test_span_tree_continues_the_callers_trace(traced):
    base, receiver = traced
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    body = {"model": SERVED_NAME, "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 5,
            "ignore_eos": True, "temperature": 0}
    r = requests.post(base + "/v1/chat/completions", json=body, timeout=120,
                      headers={"traceparent": f"00-{trace_id}-{caller_span}-01"})
    assert r.status_code == 200
    usage = r.json()["usage"]

    spans = complete_trace(receiver, trace_id, 5)
    http = spans["/v1/chat/completions"]
    generation = spans[f"chat {SERVED_NAME}"]
    queue, prefill, decode = spans["queue"], spans["prefill"], spans["decode"]
    assert len(spans) == 5
    assert all(s.service == "nimbus-e2e" for s in spans.values())

    # Parent links: caller → HTTP → generation → phases.
    assert http.parent_span_id == caller_span
    assert http.kind == SERVER_KIND
    assert generation.parent_span_id == http.span_id
    for phase in (queue, prefill, decode):
        assert phase.parent_span_id == generation.span_id
        assert phase.kind == INTERNAL_KIND

    # Attributes: model, token counts, finish reason, HTTP status.
    assert generation.attributes["gen_ai.request.model"] == SERVED_NAME
    assert generation.attributes["gen_ai.usage.input_tokens"] == usage["prompt_tokens"]
    assert generation.attributes["gen_ai.usage.output_tokens"] == usage["completion_tokens"] == 5
    assert generation.attributes["gen_ai.response.finish_reasons"] == ["length"]
    assert prefill.attributes["gen_ai.usage.input_tokens"] == usage["prompt_tokens"]
    assert decode.attributes["gen_ai.usage.output_tokens"] == 5
    assert http.attributes["http.response.status_code"] == 200
    assert http.attributes["http.request.method"] == "POST"

    # The phases follow one another inside the generation, inside the HTTP request.
    assert http.start <= generation.start == queue.start <= queue.end == prefill.start
    assert prefill.end == decode.start <= decode.end == generation.end <= http.end
    assert decode.end > decode.start  # five tokens take time

    # The request's access-log line carries the trace id (plain-text log here).
    with open("e2e-server-tracing.log") as f:
        access = [line for line in f if "POST /v1/chat/completions 200" in line and f"trace_id={trace_id}" in line]
    assert len(access) == 1


def test_a_request_without_traceparent_starts_a_trace(traced):
    base, receiver = traced
    before = {s.trace_id for s in receiver.spans}
    body = {"model": SERVED_NAME, "prompt": "Once upon a time", "max_tokens": 3, "stream": True, "ignore_eos": True}
    with requests.post(base + "/v1/completions", json=body, stream=True, timeout=120) as r:
        events = [line for line in r.iter_lines() if line.startswith(b"data: ")]
    assert events[-1] == b"data: [DONE]"
    assert json.loads(events[-2][6:])["choices"][0]["finish_reason"] == "length"

    def new_generation():
        return [s for s in receiver.spans if s.trace_id not in before and s.name == f"text_completion {SERVED_NAME}"]
    generation = poll(new_generation, timeout=30)
    assert len(generation) == 1
    spans = complete_trace(receiver, generation[0].trace_id, 5)
    http = spans["/v1/completions"]
    assert http.parent_span_id is None
    assert spans[f"text_completion {SERVED_NAME}"].parent_span_id == http.span_id
    # A stream's HTTP span lasts until the last event was written.
    assert http.end >= spans["decode"].end


def test_probes_and_scrapes_are_not_traced(traced):
    base, receiver = traced
    for path in ("/v1/health/ready", "/v1/metrics", "/v1/status", "/"):
        assert requests.get(base + path, timeout=10).status_code == 200
    # A traced request after them, so their spans (if any) would have been exported by now.
    requests.get(base + "/v1/models", timeout=10).raise_for_status()
    assert poll(lambda: any(s.name == "/v1/models" for s in receiver.spans), timeout=30)
    names = {s.name for s in receiver.spans}
    assert not names & {"/v1/health/ready", "/v1/metrics", "/v1/status", "/"}
