"""tests/ports.py: the daemons' ports lie where the kernel never hands one out, never twice."""

from __future__ import annotations

import socket

from tests import ports


def test_ports_are_free_distinct_and_below_the_kernels_ephemeral_range():
    first, second = ports.free_ports(15), ports.free_ports(15)

    assert len(set(first + second)) == 30  # never handed out twice in one process
    assert all(port in ports._worker_slice() for port in first + second)
    assert max(first + second) < ports._ephemeral_start()
    for port in first:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_each_xdist_worker_has_a_slice_of_its_own(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    gw0 = ports._worker_slice()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    gw1 = ports._worker_slice()

    assert not set(gw0) & set(gw1)
    assert gw0.start == ports.LOWEST and gw1.stop <= ports._ephemeral_start()
