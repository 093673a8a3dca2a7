"""Is a TCP port free to listen on? Asked before the models load, listened on after.

TF Serving loads its models first and only then opens its ports, so a client that connects
during the load is refused at once and retries, instead of waiting out its deadline on a port
that accepts but does not answer (TF Serving's own test suite polls that way). Checking the
ports before the load keeps the other half of the bargain: a port that is taken still fails
the start at once, not after minutes of loading.
"""

from __future__ import annotations

import socket

from serving.errors import ServerStartError


def check_port_free(host: str, port: int, flag_names: str, what: str = "") -> None:
    """Raises ServerStartError, naming `flag_names`, if nothing could listen on host:port now.

    Port 0 (any free port) is always free. The check binds a socket like the server's own
    (SO_REUSEADDR, so connections of an earlier run in TIME_WAIT do not count) and closes it.
    """
    if port == 0:
        return
    bare_host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(bare_host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServerStartError(_message(host, port, what, error.strerror, flag_names)) from None
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as error:
            raise ServerStartError(
                _message(host, port, what, error.strerror or str(error), flag_names)) from None


def _message(host: str, port: int, what: str, reason: str, flag_names: str) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return (f"cannot listen on {host}:{port}{f' for {what}' if what else ''} ({reason}); the port "
            f"may be in use or the address not local: change {flag_names}")
