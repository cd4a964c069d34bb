"""PSI entity alignment: seconds per phase and bytes each way, 10^4 to 10^6 IDs per party.

    python bench/psi.py --sizes 10000 100000 1000000 --json bench/results/psi.json
    python bench/psi.py --sizes 10000 100000 --openmined      # also openmined-psi, if importable

Both parties hold ``n`` IDs and share half of them (client: 0 .. n-1, server:
n/2 .. 3n/2-1). One process plays both sides one after the other, as
:func:`vfl.psi.intersect` does, so each phase's seconds are one party's compute
on one core; in a deployment the parties run on different machines and the
phases that do not wait for each other (REQUEST and SETUP) overlap. Bytes are
the chunks as they would cross the wire, headers included (no gRPC framing).
Every run checks that both sides found exactly the n/2 shared IDs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vfl.psi import PsiClient, PsiServer


def id_sets(n: int) -> tuple[list[str], list[str], int]:
    """The client's and the server's IDs, and how many they share."""
    client = [f"customer-{i:09d}" for i in range(n)]
    server = [f"customer-{i:09d}" for i in range(n // 2, n + n // 2)]
    return client, server, n - n // 2


class Clock:
    """Seconds per named phase, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def time(self, name: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = work()
        self.seconds[name] = round(time.perf_counter() - start, 3)
        return result


def _size(chunks: list[bytes]) -> int:
    return sum(len(chunk) for chunk in chunks)


def run_vfl(n: int) -> dict[str, Any]:
    """One alignment with :mod:`vfl.psi`: both sides learn the intersection."""
    a, b, shared = id_sets(n)
    clock = Clock()
    client = clock.time("client: init (check, shuffle)", lambda: PsiClient(a, "bench"))
    server = clock.time("server: init (check, shuffle)", lambda: PsiServer(b, "bench"))
    request = clock.time("client: request (hash, blind)", client.request)
    setup = clock.time("server: setup (hash, blind)", server.setup)
    response = clock.time("server: response", lambda: [server.response(c) for c in request])
    found = clock.time("client: intersection", lambda: client.intersection(setup, response))
    reveal = clock.time("client: reveal", client.reveal)
    learned = clock.time("server: intersection", lambda: server.intersection(reveal))
    if not len(found) == len(learned) == shared:
        raise SystemExit(f"n={n}: found {len(found)} / {len(learned)}, expected {shared}")
    return _row(
        "vfl.psi (rbcl, ristretto255)", n, shared, clock, [*request, *reveal], [*setup, *response]
    )


def run_openmined(n: int) -> dict[str, Any]:
    """The same sizes with openmined-psi (only the client learns the intersection)."""
    import private_set_intersection.python as psi  # not a dependency: see docs/psi.md

    a, b, shared = id_sets(n)
    clock = Clock()
    client = psi.client.CreateWithNewKey(True)
    server = psi.server.CreateWithNewKey(True)
    request = clock.time("client: request (hash, blind)", lambda: client.CreateRequest(a))
    setup = clock.time(
        "server: setup (hash, blind)",
        lambda: server.CreateSetupMessage(1e-9, n, b, psi.DataStructure.RAW),
    )
    response = clock.time("server: response", lambda: server.ProcessRequest(request))
    found = clock.time("client: intersection", lambda: client.GetIntersection(setup, response))
    if len(found) != shared:
        raise SystemExit(f"openmined n={n}: found {len(found)}, expected {shared}")
    to_client = [setup.SerializeToString(), response.SerializeToString()]
    return _row("openmined-psi (P-256)", n, shared, clock, [request.SerializeToString()], to_client)


def _row(
    library: str, n: int, shared: int, clock: Clock, to_server: list[bytes], to_client: list[bytes]
) -> dict[str, Any]:
    """One result: seconds per phase, and bytes and messages (chunks) each way."""
    return {
        "library": library,
        "ids_per_party": n,
        "shared": shared,
        "seconds": clock.seconds,
        "total_seconds": round(sum(clock.seconds.values()), 3),
        "bytes_client_to_server": _size(to_server),
        "bytes_server_to_client": _size(to_client),
        "messages_each_way": [len(to_server), len(to_client)],
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def print_row(row: dict[str, Any]) -> None:
    phases = ", ".join(f"{name} {s:.2f}" for name, s in row["seconds"].items())
    print(
        f"{row['library']}: n={row['ids_per_party']:,} shared={row['shared']:,} "
        f"total {row['total_seconds']:.2f} s; client->server "
        f"{row['bytes_client_to_server']:,} B, server->client {row['bytes_server_to_client']:,} B; "
        f"peak RSS {row['max_rss_mib']} MiB\n  {phases}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--openmined", action="store_true", help="also run openmined-psi")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    runners = [run_vfl] + ([run_openmined] if args.openmined else [])
    load_before = os.getloadavg()
    rows = []
    for n in sorted(args.sizes):
        for runner in runners:
            rows.append(runner(n))
            print_row(rows[-1])
    results = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "runs": rows,
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
