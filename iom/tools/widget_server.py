"""Serve the demo pages and the built chat widget (http://localhost:8080/).

Pages: Polish at ``/``, English, Ukrainian and Russian at ``/en/``, ``/uk/``, ``/ru/``;
privacy in Polish and English at ``/privacy/``, in Ukrainian and Russian at
``/uk/privacy/`` and ``/ru/privacy/``.

Standard library only: a threading HTTP server with strict security headers. Pages in
`widget/pages/` are templates with two placeholders, filled per request:

- ``{{SOCKET_URL}}``: where the widget finds Rasa's socket.io channel. From
  ``WIDGET_SOCKET_URL``, else ``http://<host the page was requested on>:<RASA_PORT>``.
- ``{{EXIT_URL}}``: the neutral site the quick exit opens (``QUICK_EXIT_URL``).

Usage: ``python -m iom.tools.widget_server [--host H] [--port P]`` (defaults from
``WIDGET_HOST``/``WIDGET_PORT``).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from iom.core import settings

ROOT = settings.ROOT
PAGES = ROOT / "widget" / "pages"
DIST = ROOT / "widget" / "dist"

ROUTES = {
    "/": PAGES / "index.html",
    "/en/": PAGES / "en" / "index.html",
    "/uk/": PAGES / "uk" / "index.html",
    "/ru/": PAGES / "ru" / "index.html",
    "/privacy/": PAGES / "privacy" / "index.html",  # Polish, and English at #en
    "/uk/privacy/": PAGES / "uk" / "privacy" / "index.html",
    "/ru/privacy/": PAGES / "ru" / "privacy" / "index.html",
}
REDIRECTS = {
    "/index.html": "/",
    **{path.rstrip("/"): path for path in ROUTES if path != "/"},
}
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
HOSTNAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9a-fA-F:]+\])$"
)
DEFAULT_EXIT_URL = "https://www.google.com/"


def request_hostname(host_header: str | None) -> str:
    """The hostname the browser used (no port), or `localhost` if it looks odd."""
    host = (host_header or "").strip()
    if host.startswith("["):
        name = host[: host.find("]") + 1] if "]" in host else ""
    else:
        name = host.rsplit(":", 1)[0] if ":" in host else host
    return name if HOSTNAME.match(name) else "localhost"


def socket_url(host_header: str | None) -> str:
    """Where the widget connects: WIDGET_SOCKET_URL or the page's host on RASA_PORT."""
    config = settings.current()
    if config.widget_socket_url:
        return config.widget_socket_url.rstrip("/")
    port = config.rasa_port
    return f"http://{request_hostname(host_header)}:{port}"


def content_security_policy(socket: str) -> str:
    """A strict CSP: own scripts and styles only, sockets only to the bot server."""
    parts = urlsplit(socket)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    origin = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {origin} {ws_scheme}://{parts.netloc}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


class Handler(BaseHTTPRequestHandler):
    """GET/HEAD for the pages and the widget bundle; everything else is refused."""

    server_version = "iom-widget"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Log the request line only (no query strings: they could carry text)."""
        sys.stderr.write(f"widget: {self.command} {urlsplit(self.path).path}\n")

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        socket = socket_url(self.headers.get("Host"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", content_security_policy(socket))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._send(
            status,
            f"{status.value} {message}\n".encode(),
            "text/plain; charset=utf-8",
            {"Cache-Control": "no-store"},
        )

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        """Pages (templated), the widget bundle, a health check."""
        path = urlsplit(self.path).path
        if path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        elif path in REDIRECTS:
            self._send(
                HTTPStatus.MOVED_PERMANENTLY,
                b"",
                "text/plain",
                {"Location": REDIRECTS[path]},
            )
        elif path in ROUTES:
            self._page(ROUTES[path])
        elif path.startswith("/static/"):
            self._static(path.removeprefix("/static/"))
        else:
            self._error(HTTPStatus.NOT_FOUND, "Not found")

    def do_HEAD(self) -> None:  # noqa: N802
        """Same as GET without the body."""
        self.do_GET()

    def _refuse(self) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, "Only GET and HEAD are allowed")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815

    def _page(self, template: Path) -> None:
        values = {
            "{{SOCKET_URL}}": socket_url(self.headers.get("Host")),
            "{{EXIT_URL}}": settings.current().quick_exit_url,
        }
        text = template.read_text("utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, html.escape(value, quote=True))
        self._send(
            HTTPStatus.OK,
            text.encode("utf-8"),
            "text/html; charset=utf-8",
            {"Cache-Control": "no-store"},
        )

    def _static(self, name: str) -> None:
        file = DIST / name
        if "/" in name or name.startswith(".") or file.suffix not in STATIC_TYPES:
            self._error(HTTPStatus.NOT_FOUND, "Not found")
        elif not file.is_file():
            self._error(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "The widget is not built: run `make widget`",
            )
        else:
            self._send(
                HTTPStatus.OK,
                file.read_bytes(),
                STATIC_TYPES[file.suffix],
                {"Cache-Control": "no-cache"},
            )


def main() -> None:
    """Parse host/port and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings.current().widget_host)
    parser.add_argument("--port", type=int, default=settings.current().widget_port)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"Widget page:    http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
