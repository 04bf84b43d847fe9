"""Serving the API with uvicorn, saying where: the address is printed once it is listening.

uvicorn announces its address in a log record, and the app configures logging itself
(`log_config=None`), so that record went nowhere: a person starting `fantasy serve`
saw nothing. The address is printed after the socket is bound, so it is the real one
(with `--port 0`, the port the system chose) and it is only printed when true.
"""

from __future__ import annotations

import socket
from typing import Any, TextIO

import uvicorn
from uvicorn.supervisors import Multiprocess


class _AnnouncingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, out: TextIO) -> None:
        super().__init__(config)
        self._out = out

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:  # the lifespan or the bind failed: nothing listens
            return
        for server in self.servers:
            for listening in server.sockets:
                url = base_url(listening.getsockname())
                print(
                    f"fantasy: serving the API on {url} (docs at {url}/schema, Ctrl-C to stop)",
                    file=self._out,
                    flush=True,
                )


def base_url(address: Any) -> str:
    """`http://host:port` for a bound socket's name (an IPv6 host in brackets)."""
    host, port = str(address[0]), int(address[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: Any, host: str, port: int, out: TextIO) -> None:
    """Serve `app` on host:port until stopped (SIGINT or SIGTERM)."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None)
    _AnnouncingServer(config, out).run()


def serve_processes(factory: str, host: str, port: int, processes: int, out: TextIO) -> None:
    """Serve the app that `factory` ("module:function") builds in each of `processes`
    processes, all accepting on one socket bound here, until stopped (SIGINT or SIGTERM).

    uvicorn's supervisor starts them, replaces one that dies, and stops them all if one
    cannot start (the same app would fail the same way again).
    """
    config = uvicorn.Config(
        factory, factory=True, host=host, port=port, workers=processes, log_config=None
    )
    listening = config.bind_socket()
    url = base_url(listening.getsockname())
    print(
        f"fantasy: serving the API on {url} in {processes} processes "
        f"(docs at {url}/schema, Ctrl-C to stop)",
        file=out,
        flush=True,
    )
    Multiprocess(config, sockets=[listening]).run()
