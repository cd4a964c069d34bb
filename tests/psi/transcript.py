"""Test helper: one whole PSI run, with every chunk that crossed the wire."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vfl.psi import PsiClient, PsiServer


@dataclass
class Run:
    """Both sides after one alignment, their results, and the transcript by message kind."""

    client: PsiClient
    server: PsiServer
    client_result: list[str]
    server_result: list[str]
    request: list[bytes]
    setup: list[bytes]
    response: list[bytes]
    reveal: list[bytes]

    def wire(self) -> list[bytes]:
        """Every chunk either side sent."""
        return [*self.request, *self.setup, *self.response, *self.reveal]


def align(
    client_ids: Iterable[str], server_ids: Iterable[str], session: str = "s", chunk_items: int = 4
) -> Run:
    """Run the four messages in protocol order, as two processes would exchange them."""
    client = PsiClient(client_ids, session, chunk_items=chunk_items)
    server = PsiServer(server_ids, session, chunk_items=chunk_items)
    request = client.request()
    setup = server.setup()
    response = [server.response(chunk) for chunk in request]
    client_result = client.intersection(setup, response)
    reveal = client.reveal()
    server_result = server.intersection(reveal)
    return Run(client, server, client_result, server_result, request, setup, response, reveal)
