"""Slow and idle clients (slowloris) cost the REST port a little memory each, never other
clients' answers: one event loop holds every connection, none holds a thread."""

import resource
import socket
import time

import pytest

PREDICT = "/v1/models/half_plus_two/versions/1:predict"
SLOW_CLIENTS = 1000


def _allow_open_files(count: int) -> None:
    """Raises this process's soft open-file limit to `count` (the server shares the process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= count:
        return
    if hard != resource.RLIM_INFINITY and hard < count:
        pytest.skip(f"needs {count} open files; the hard limit here is {hard} (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


@pytest.mark.slow
def test_a_thousand_idle_or_trickling_connections_do_not_stop_other_clients(rest):
    _allow_open_files(3 * SLOW_CLIENTS + 1000)  # both ends of each connection, and the rest
    slow = []
    try:
        for index in range(SLOW_CLIENTS):
            connection = socket.create_connection(("127.0.0.1", rest.port), timeout=10)
            slow.append(connection)
            if index % 3 == 1:  # headers that never end
                connection.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\n".encode())
            elif index % 3 == 2:  # a body that never ends
                connection.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Length: 100000\r\n\r\n{\"instances\": [".encode())
        answers = []
        for round_ in range(5):
            for connection in slow[1::3]:  # trickle: one more header byte each
                connection.sendall(b"X")
            reply = rest.post(PREDICT, {"instances": [float(round_)]})
            answers.append((reply.status, reply.json()))
            time.sleep(0.2)
        assert answers == [(200, {"predictions": [0.5 * value + 2]}) for value in range(5)]
    finally:
        for connection in slow:
            connection.close()
