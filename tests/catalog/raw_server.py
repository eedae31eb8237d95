"""A hand-written HTTP server on 127.0.0.1 for answers no well-behaved server gives: bodies and
headers sent a byte at a time, compressed bodies nobody asked for. Each connection is answered by
``respond(path, send)`` in its own thread; ``send`` raises once the test is over."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

Respond = Callable[[str, Callable[[bytes], None], threading.Event], None]


@contextlib.contextmanager
def raw_server(respond: Respond) -> Iterator[str]:
    """Yields ``http://127.0.0.1:<port>``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stopping = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ", 2)[1].decode("latin-1")
            respond(path, conn.sendall, stopping)

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


def answer(status: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def drip(
    data: bytes, send: Callable[[bytes], None], stopping: threading.Event, every: float
) -> None:
    """Send ``data`` one byte per ``every`` seconds (until the test ends)."""
    for index in range(len(data)):
        if stopping.wait(every):
            return
        send(data[index : index + 1])
