"""Free loopback ports for the daemons the tests start, chosen where the kernel never looks.

A port taken by binding port 0 comes from the kernel's ephemeral range, and so can the port
of any daemon started with port 0 (DataNodes 2 and 3, NodeManagers, Spark's driver) or of
any outgoing connection. A CI run lost the YARN tests that way: the ResourceManager's web
port, picked free, was taken by another process before the ResourceManager bound it.
So ports come from below the ephemeral range, each pytest-xdist worker from its own slice,
and one process never hands out a port twice.
"""

from __future__ import annotations

import itertools
import os
import socket
from contextlib import ExitStack
from pathlib import Path

LOWEST = 20000  # above the well-known defaults the stack uses by hand (7077, 8088, 9870...)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _worker_slice() -> range:
    """This pytest-xdist worker's ports (the whole range without xdist)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    width = max(0, (_ephemeral_start() - LOWEST) // workers)
    return range(LOWEST + index * width, LOWEST + (index + 1) * width)


_candidates = itertools.cycle(_worker_slice())


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_ports(count: int) -> list[int]:
    """Ports the kernel picks: the fallback where the ephemeral range leaves nothing below it."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports free on 127.0.0.1, none handed out before by this process."""
    if len(_worker_slice()) < 100:
        return _kernel_ports(count)
    ports: list[int] = []
    for tried, port in enumerate(_candidates):
        if tried > 2 * len(_worker_slice()):
            raise RuntimeError(f"no {count} free ports in {_worker_slice()}")
        if _is_free(port):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise AssertionError("unreachable: the candidates cycle for ever")
