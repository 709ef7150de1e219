"""A loopback web site for yt-dlp: pages with <video> and <track>, served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator


class LoopbackSite(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 serving ``files`` (path -> bytes) with Range support.

    ``requests`` records (path, Range header); paths in ``slow`` answer after 4 s, paths in
    ``drip`` send one byte every 0.3 s; with ``drop_first`` the first response is cut off halfway.
    Paths in ``endless`` send chunks of their body (HTML or zeros) without end, and paths in
    ``claims`` announce that many bytes and send zeros until the client hangs up.
    """

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SiteHandler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.slow: set[str] = set()
        self.drip: set[str] = set()
        self.drop_first = False
        self.endless: set[str] = set()
        self.claims: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        """Clients that hang up early (the time-out tests) are expected; stay quiet about them."""


class _SiteHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        """Requests are recorded in ``site.requests``, not printed."""

    def do_GET(self):
        site: LoopbackSite = self.server
        rng = self.headers.get("Range")
        site.requests.append((self.path, rng))
        if self.path in site.slow:
            time.sleep(4)
        if self.path in site.endless or self.path in site.claims:
            self._without_end(site)
            return
        data = site.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header(
            "Content-Type",
            "text/html" if self.path.endswith(".html") else "application/octet-stream",
        )
        self.end_headers()
        body = data[start:]
        if self.path in site.drip:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.3)
            return
        if site.drop_first:
            site.drop_first = False
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def _without_end(self, site: LoopbackSite) -> None:
        html = self.path.endswith(".html")
        chunk = b"<p>" + b"a" * (1 << 20) + b"</p>" if html else bytes(1 << 20)
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if html else "video/mp4")
        if self.path in site.claims:
            self.send_header("Content-Length", str(site.claims[self.path]))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        framed = chunk if self.path in site.claims else b"%x\r\n%s\r\n" % (len(chunk), chunk)
        with contextlib.suppress(OSError):
            while True:
                self.wfile.write(framed)


@contextlib.contextmanager
def serving() -> Iterator[LoopbackSite]:
    """A LoopbackSite answering requests until the block ends."""
    site = LoopbackSite()
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        site.shutdown()
        site.server_close()


def page(video: str, track: str) -> bytes:
    return (
        f'<html><head><title>{video}</title></head><body><video controls><source src="{video}" '
        f'type="video/mp4"><track kind="captions" src="{track}" srclang="en" label="English"></video>'
        f"</body></html>"
    ).encode()
