"""PSI finds exactly the shared IDs, on both sides, however the chunks travel."""

from __future__ import annotations

import random
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.psi.transcript import align
from vfl.psi import PsiClient, PsiServer, intersect


def _disjoint_sets(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Two ID sets from one pool: each pool ID is only in a, only in b, or in both."""
    pool = draw(st.lists(st.text(min_size=1, max_size=8), min_size=2, max_size=30, unique=True))
    where = draw(st.lists(st.sampled_from("ab+"), min_size=len(pool), max_size=len(pool)))
    a = [x for x, w in zip(pool, where, strict=True) if w in "a+"] or [pool[0]]
    b = [x for x, w in zip(pool, where, strict=True) if w in "b+"] or [pool[-1]]
    return a, b


id_sets = st.composite(_disjoint_sets)()


@settings(max_examples=40, deadline=None)  # no deadline: speed is measured in bench/psi.py
@given(sets=id_sets, chunk_items=st.integers(min_value=1, max_value=6))
def test_both_sides_find_exactly_the_python_set_intersection(
    sets: tuple[list[str], list[str]], chunk_items: int
) -> None:
    a, b = sets
    run = align(a, b, chunk_items=chunk_items)
    expected = sorted(set(a) & set(b))
    assert run.client_result == expected
    assert run.server_result == expected
    assert (run.client.peer_size, run.server.peer_size) == (len(b), len(a))


def test_disjoint_sets_give_an_empty_intersection() -> None:
    run = align([f"a{i}" for i in range(9)], [f"b{i}" for i in range(11)])
    assert run.client_result == run.server_result == []


def test_identical_sets_in_different_orders_overlap_fully() -> None:
    ids = [f"customer-{i:04d}" for i in range(50)]
    shuffled = random.Random(3).sample(ids, len(ids))
    run = align(ids, shuffled, chunk_items=7)
    assert run.client_result == run.server_result == ids


def test_unicode_ids_match_exactly_without_normalisation() -> None:
    nfc = unicodedata.normalize("NFC", "José")
    nfd = unicodedata.normalize("NFD", "José")
    assert nfc != nfd
    a = [nfc, "日本-001", "🙂", "עברית", "a\x00b", "Ω", "plain"]
    b = ["日本-001", nfd, "🙂", "a\x00b", "ω", "other"]
    run = align(a, b)
    assert run.client_result == run.server_result == sorted(["日本-001", "🙂", "a\x00b"])


def test_chunks_may_arrive_in_any_order() -> None:
    a = [f"id{i}" for i in range(40)]
    b = [f"id{i}" for i in range(25, 70)]
    client = PsiClient(a, "order", chunk_items=3)
    server = PsiServer(b, "order", chunk_items=3)
    request = client.request()
    random.Random(1).shuffle(request)
    response = [server.response(chunk) for chunk in request]
    setup = server.setup()
    shared = client.intersection(reversed(setup), reversed(response))
    reveal = client.reveal()
    random.Random(2).shuffle(reveal)
    assert shared == server.intersection(reveal) == sorted(set(a) & set(b))
    assert len(request) == 14 and len(setup) == 15  # ceil(40 / 3), ceil(45 / 3)


def test_intersect_helper_runs_both_sides_with_default_chunks() -> None:
    a = [f"row-{i}" for i in range(0, 600, 2)]
    b = [f"row-{i}" for i in range(0, 600, 3)]
    assert intersect(a, b) == sorted(set(a) & set(b))
    assert intersect(iter(a), (x for x in b), session="named") == sorted(set(a) & set(b))
