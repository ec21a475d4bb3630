"""A loopback TCP proxy for the tests: the network between an application
and its database, made to fail on demand.

:class:`TCPProxy` listens on a free port of 127.0.0.1 and forwards each
connection to a target address, one thread per connection.
:meth:`~TCPProxy.cut` resets every open connection and every new one, as a
firewall that starts rejecting would: a reset (RST), not silence, so that
clients see an error at once rather than hang until their timeouts.
:meth:`~TCPProxy.refuse` resets new connections only, and leaves the open
ones be; :meth:`~TCPProxy.restore` forwards again.

New connections are accepted and then reset, rather than left unanswered by
a closed listening socket: the port stays the proxy's (nothing else can
take it between a cut and a restore), and the kernel never queues a
connection that nobody will accept.

Every wait is bounded: a thread that does not stop within
:data:`JOIN_TIMEOUT` raises :class:`RuntimeError` rather than hang the test.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from dataclasses import dataclass
from types import TracebackType

#: Seconds to wait for the target to accept a connection.
CONNECT_TIMEOUT = 5.0
#: Seconds a peer may take to take the data sent to it.
SEND_TIMEOUT = 5.0
#: Seconds to wait for a thread to stop: longer than any of its own waits.
JOIN_TIMEOUT = max(CONNECT_TIMEOUT, SEND_TIMEOUT) + 2.0
#: How often the threads look whether they should stop, in seconds: this is
#: as long as a cut may take to reach a connection.
TICK = 0.05
#: The most bytes read at once.
CHUNK = 65536

#: SO_LINGER on, with a timeout of 0: close() sends a reset.
_LINGER_RESET = struct.pack("ii", 1, 0)


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a reset rather than an orderly close, so that its
    peer's next read or write fails at once.

    :param sock: A connected socket; it is closed whatever happens.
    """
    # A socket already dead cannot take the option: closing it is all that
    # is left to do.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()


@dataclass(eq=False)
class _Link:
    """One client's connection and its twin to the target.

    ``cut`` is set (under the proxy's lock) to make its thread reset both
    sockets; only that thread ever touches them after it started, so that
    no socket is closed under a thread still selecting on it.
    """

    client: socket.socket
    thread: threading.Thread | None = None
    #: Our end's port of the connection to the target: what the target
    #: sees as the client's port (``pg_stat_activity.client_port``).
    upstream_port: int | None = None
    cut: bool = False


class TCPProxy:
    """Forwards connections to ``127.0.0.1:port`` on to ``target``.

    Use it as a context manager: it listens from entry, and on exit stops
    accepting and resets every connection still open.

    :param target: The (host, port) to forward to.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        #: How many connections were forwarded, and how many reset on arrival.
        self.accepted = 0
        self.refused = 0
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._links: set[_Link] = set()
        self._accepting = True
        self._closing = threading.Event()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TCPProxy(127.0.0.1:{self.port} -> {self.target[0]}:{self.target[1]})"

    def __enter__(self) -> TCPProxy:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Listen on a free loopback port (:attr:`port`) and start
        accepting."""
        if self._listener is not None:
            raise RuntimeError(f"{self!r} is started already")
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() gives up every TICK, so that close() is heard.
        self._listener.settimeout(TICK)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(
            target=self._accept, name=f"tcpproxy-{self.port}", daemon=True
        )
        self._acceptor.start()

    def close(self) -> None:
        """Stop accepting, reset every open connection and wait (bounded)
        for every thread.

        :raises RuntimeError: A thread did not stop within
            :data:`JOIN_TIMEOUT`.
        """
        if self._listener is None or self._closing.is_set():
            return
        self._closing.set()
        assert self._acceptor is not None
        self._acceptor.join(JOIN_TIMEOUT)
        stuck = self._acceptor.is_alive()
        # Closed after the acceptor stopped: a socket is never closed under
        # a thread that may still use it (its number could be reused).
        if not stuck:
            self._listener.close()
        self.cut()
        if stuck:
            raise RuntimeError(f"{self!r}: the accepting thread did not stop")

    def cut(self) -> int:
        """Reset every open connection, and every new one until
        :meth:`restore`; return once the open ones are closed.

        :returns: How many connections were open.
        :raises RuntimeError: A connection's thread did not stop within
            :data:`JOIN_TIMEOUT`.
        """
        with self._lock:
            self._accepting = False
            links = list(self._links)
            for link in links:
                link.cut = True
        for link in links:
            if link.thread is not None:
                link.thread.join(JOIN_TIMEOUT)
        stuck = [link for link in links if link.thread and link.thread.is_alive()]
        if stuck:
            raise RuntimeError(f"{self!r}: {len(stuck)} connection(s) not closed")
        return len(links)

    def refuse(self) -> None:
        """Reset every new connection until :meth:`restore`; the open ones
        go on."""
        with self._lock:
            self._accepting = False

    def restore(self) -> None:
        """Forward new connections again."""
        with self._lock:
            self._accepting = True

    def upstream_ports(self) -> set[int]:
        """Our ports of the open connections to the target: the client ports
        the target sees, which tell the proxy's connections from others."""
        with self._lock:
            return {
                link.upstream_port
                for link in self._links
                if link.upstream_port is not None and not link.cut
            }

    # --- the threads --------------------------------------------------------

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                if not self._accepting or self._closing.is_set():
                    self.refused += 1
                    reset(client)
                    continue
                self.accepted += 1
                link = _Link(client)
                link.thread = threading.Thread(
                    target=self._forward,
                    args=(link,),
                    name=f"tcpproxy-{self.port}-link",
                    daemon=True,
                )
                self._links.add(link)
                # Started under the lock: cut() sees either no link or one
                # whose thread can be joined.
                link.thread.start()

    def _forward(self, link: _Link) -> None:
        client = link.client
        upstream: socket.socket | None = None
        orderly = False
        try:
            upstream = socket.create_connection(self.target, timeout=CONNECT_TIMEOUT)
            with self._lock:
                link.upstream_port = upstream.getsockname()[1]
            # Bounded sends: a peer that stops reading cannot hold the
            # thread (and so a cut) for longer than SEND_TIMEOUT.
            client.settimeout(SEND_TIMEOUT)
            upstream.settimeout(SEND_TIMEOUT)
            with selectors.DefaultSelector() as selector:
                selector.register(client, selectors.EVENT_READ, upstream)
                selector.register(upstream, selectors.EVENT_READ, client)
                while not link.cut:
                    for key, _ in selector.select(TICK):
                        source = key.fileobj
                        assert isinstance(source, socket.socket)
                        data = source.recv(CHUNK)
                        if not data:
                            # One side closed: the other is closed in order
                            # too, after everything sent before (PostgreSQL's
                            # protocol has no use for a half-closed link).
                            orderly = True
                            return
                        key.data.sendall(data)
        except OSError:
            pass  # refused, reset or timed out: the link ends, with a reset
        finally:
            with self._lock:
                self._links.discard(link)
                orderly = orderly and not link.cut
            for sock in (client, upstream):
                if sock is None:
                    continue
                if orderly:
                    sock.close()
                else:
                    reset(sock)
