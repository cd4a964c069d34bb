"""What crosses the wire: no ID, no unblinded hash of one, nothing that links two runs."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

from tests.psi.transcript import Run, align
from vfl.psi import group, ids
from vfl.psi.wire import Kind, decode


def _id_sets() -> tuple[list[str], list[str]]:
    """IDs long enough (>= 12 bytes) that none turns up in random bytes by chance."""
    shared = [f"patient-{secrets.token_hex(6)}" for _ in range(30)]
    only_a = [f"patient-{secrets.token_hex(6)}" for _ in range(40)] + ["Ærøskøbing-Ünïcödé-7"]
    only_b = [f"patient-{secrets.token_hex(6)}" for _ in range(35)] + ["東京都-顧客番号-0042"]
    return shared + only_a, only_b + shared


def _items(run: Run, session: str) -> list[bytes]:
    """Every group element and tag in the transcript, decoded chunk by chunk."""
    session_tag = group.session_tag(session.encode())
    messages = {
        Kind.REQUEST: run.request,
        Kind.SETUP: run.setup,
        Kind.RESPONSE: run.response,
        Kind.REVEAL: run.reveal,
    }
    return [
        item
        for kind, chunks in messages.items()
        for chunk in chunks
        for item in decode(chunk, kind, session_tag).items
    ]


def test_no_id_and_no_unblinded_hash_of_an_id_is_on_the_wire() -> None:
    a, b = _id_sets()
    run = align(a, b, session="audit", chunk_items=4)
    assert run.client_result == sorted(set(a) & set(b))
    wire = b"".join(run.wire())
    everyone = sorted(set(a) | set(b))
    for raw in ids.encoded(everyone):
        assert raw not in wire
        assert raw[:8] not in wire  # not even a prefix of the ID's bytes
    # H(id) before blinding would let a peer test guesses; only blinded elements travel.
    for point in group.hash_to_points(ids.encoded(everyone), b"audit"):
        assert point not in wire


def test_two_sessions_share_no_element_for_the_same_ids() -> None:
    a, b = _id_sets()
    first = _items(align(a, b, session="alignment-1"), "alignment-1")
    second = _items(align(a, b, session="alignment-2"), "alignment-2")
    assert len(first) == len(second) == 2 * (len(a) + len(b))
    assert set(first).isdisjoint(second)


def test_the_same_session_run_twice_shares_nothing_either() -> None:
    """Fresh keys per run: a replayed session id still gives unrelated bytes."""
    a, b = _id_sets()
    first = _items(align(a, b, session="same"), "same")
    assert set(first).isdisjoint(_items(align(a, b, session="same"), "same"))


def test_positions_in_the_messages_do_not_follow_the_input_order() -> None:
    """Sorted inputs, shared IDs first: matches must not sit at the first positions."""
    a = [f"acct-{i:05d}" for i in range(120)]
    b = a[:60] + [f"other-{i:05d}" for i in range(60)]
    run = align(a, b, session="s", chunk_items=1000)
    session_tag = group.session_tag(b"s")
    response = decode(run.response[0], Kind.RESPONSE, session_tag).items
    revealed_in_order = decode(run.reveal[0], Kind.REVEAL, session_tag).items
    revealed = set(revealed_in_order)
    matched = {i for i, t in enumerate(response) if t in revealed}
    assert len(matched) == 60  # what the server can see: which request positions matched
    assert matched != set(range(60))
    seen_by_client = {j for j, t in enumerate(revealed_in_order) if t in set(response)}
    assert len(seen_by_client) == 60  # and the client: which setup positions matched
    assert seen_by_client != set(range(60))


def _python(code: str, tmp_path: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_psi_core_imports_no_transport(tmp_path: Path) -> None:
    code = (
        "import sys, vfl.psi\n"
        "bad = ('grpc', 'google', 'flwr', 'torch', 'vfl.grpc', 'vfl.flower', 'vfl.transport')\n"
        "print(sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    assert _python(code, tmp_path).strip() == "[]"


def test_importing_leaves_no_copy_of_libsodium_in_the_temp_dir(tmp_path: Path) -> None:
    _python("import vfl.psi, sys; assert 'rbcl' not in sys.modules", tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written: libsodium loads on first use


def test_aligning_leaves_no_copy_of_libsodium_in_the_temp_dir(tmp_path: Path) -> None:
    _python("from vfl.psi import intersect; print(intersect(['a', 'b'], ['b']))", tmp_path)
    assert list(tmp_path.iterdir()) == []
