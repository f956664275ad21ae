"""A loopback HTTP file server with Range support, and a tiny wheel builder, for the model-store tests.

Python's http.server answers every GET with the whole file; this handler honours
`Range: bytes=N-`, can cut the first answer for a path in the middle (announcing the full
Content-Length, then closing the connection), can send bodies slowly (`rate`, for tests that
interrupt a download) and records each request's Range header and the bytes it sent.
"""
import base64
import hashlib
import http.server
import os
import sys
import threading
import time
import zipfile


class FileServer:
    """Serves `files` (name -> bytes) on 127.0.0.1; `cut_first` names paths whose first GET stops
    halfway; `rate` (bytes per second, None for no limit) throttles bodies and may be changed
    while serving."""

    CHUNK = 16 << 10

    def __init__(self, files, cut_first=(), rate=None):
        self.files = dict(files)
        self.cut_first = set(cut_first)
        self.rate = rate
        self.requests = []  # (path, Range header or None)
        self.sent = {}  # path -> body bytes written to clients so far, over all its GETs
        server = self

        def send(handler, name, data):
            """Writes `data` (in chunks at `server.rate` when set); a client that hangs up ends it quietly."""
            try:
                for offset in range(0, len(data), server.CHUNK):
                    chunk = data[offset:offset + server.CHUNK]
                    handler.wfile.write(chunk)
                    handler.wfile.flush()
                    server.sent[name] = server.sent.get(name, 0) + len(chunk)
                    if server.rate:
                        time.sleep(len(chunk) / server.rate)
            except (BrokenPipeError, ConnectionResetError):
                handler.close_connection = True

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append((name, self.headers.get("Range")))
                body = server.files.get(name)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                wanted = self.headers.get("Range")
                if wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
                    start = int(wanted[len("bytes="):-1])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if name in server.cut_first:
                    server.cut_first.discard(name)
                    send(self, name, body[start:start + (len(body) - start) // 2])
                    self.close_connection = True
                    return
                send(self, name, body[start:])

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A client killed or hung up mid-transfer (the tests do that on purpose): no traceback.
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def gets(self, name):
        """The Range headers of the GETs for `name`, in order."""
        return [r for (path, r) in self.requests if path == name]


def fake_gguf(size, seed):
    """`size` bytes starting with the GGUF magic, then a deterministic pseudo-random tail."""
    out = bytearray(b"GGUF")
    block = str(seed).encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def make_wheel(folder, distribution, version, members):
    """Writes a minimal valid wheel carrying `members` (path in the wheel -> bytes); returns its path."""
    package = distribution.replace("-", "_")
    info = f"{package}-{version}.dist-info"
    files = dict(members)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: nimbus-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = os.path.join(folder, f"{package}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return path
