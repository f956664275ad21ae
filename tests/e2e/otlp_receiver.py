"""A minimal OTLP/HTTP trace receiver on loopback: decodes each POST /v1/traces body as an
ExportTraceServiceRequest (with the `opentelemetry-proto` package) and keeps the spans."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                       ExportTraceServiceResponse)


def attribute_value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [attribute_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class Span:
    """One received span, flattened: ids as hex, attributes as a dict, service from the resource."""

    def __init__(self, span, service):
        self.name = span.name
        self.trace_id = span.trace_id.hex()
        self.span_id = span.span_id.hex()
        self.parent_span_id = span.parent_span_id.hex() or None
        self.kind = span.kind
        self.start = span.start_time_unix_nano
        self.end = span.end_time_unix_nano
        self.attributes = {a.key: attribute_value(a.value) for a in span.attributes}
        self.status_code = span.status.code
        self.service = service

    def __repr__(self):
        return f"Span({self.name!r}, {self.span_id}, parent={self.parent_span_id})"


class OTLPReceiver:
    def __init__(self):
        self.spans = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 404
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    with receiver.lock:
                        receiver.requests += 1
                        for resource_spans in request.resource_spans:
                            service = {a.key: attribute_value(a.value)
                                       for a in resource_spans.resource.attributes}.get("service.name")
                            for scope in resource_spans.scope_spans:
                                receiver.spans += [Span(s, service) for s in scope.spans]
                    status = 200
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def trace(self, trace_id):
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]
