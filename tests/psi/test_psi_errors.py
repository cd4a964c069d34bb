"""Bad input and bad messages fail with one clear vfl error, before anything is computed."""

from __future__ import annotations

import pytest

from vfl.errors import ConfigError, DataError, ProtocolError, VFLError, WireFormatError
from vfl.psi import CHUNK_ITEMS, MAX_CHUNK_BYTES, PsiClient, PsiServer, intersect
from vfl.psi.group import POINT_BYTES, session_tag
from vfl.psi.wire import MAX_CHUNK_ITEMS, Kind, check_chunk_items, chunks, encode

SIDES = [PsiClient, PsiServer]


@pytest.mark.parametrize("side", SIDES)
def test_duplicate_ids_name_how_many_and_an_example(side: type) -> None:
    with pytest.raises(DataError, match=r"2 sample ID\(s\) appear more than once, e\.g\. 'b'"):
        side(["a", "b", "c", "b", "d", "d", "d"], "s")


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([], "empty: there is nothing to align"),
        (iter(()), "empty: there is nothing to align"),
        ("abc", "not a single string"),
        (["a", 7], "position 1 is a int"),
        ([b"raw"], "position 0 is a bytes"),
        (["a", None], "position 1 is a NoneType"),
        (["a", ""], "position 1 is an empty string"),
        (["ok", "\ud800"], "position 1 is not valid Unicode"),
    ],
)
def test_bad_id_sets_are_data_errors(ids: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        intersect(ids, ["a"])  # type: ignore[arg-type]
    assert issubclass(DataError, VFLError)


@pytest.mark.parametrize("session", ["", None, b"bytes", "\ud800"])
def test_a_session_must_be_a_non_empty_string(session: object) -> None:
    with pytest.raises(ConfigError, match="session must be a non-empty string"):
        PsiClient(["a"], session)  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk_items", [0, -1, 200_000, 2.5])
def test_chunk_sizes_that_do_not_fit_a_grpc_message_are_refused(chunk_items: object) -> None:
    with pytest.raises(ConfigError, match="chunk_items must be an integer from 1 to"):
        PsiServer(["a"], "s", chunk_items=chunk_items)  # type: ignore[arg-type]


def test_every_chunk_fits_grpcs_default_message_limit() -> None:
    points = [bytes(POINT_BYTES)] * (2 * CHUNK_ITEMS + 1)
    encoded = chunks(Kind.SETUP, session_tag(b"s"), points, CHUNK_ITEMS)
    assert len(encoded) == 3
    assert max(len(c) for c in encoded) <= MAX_CHUNK_BYTES < 4 * 1024 * 1024
    largest = chunks(Kind.SETUP, session_tag(b"s"), points, check_chunk_items(MAX_CHUNK_ITEMS))
    assert max(len(c) for c in largest) <= MAX_CHUNK_BYTES
    with pytest.raises(ConfigError):
        check_chunk_items(MAX_CHUNK_ITEMS + 1)


def _pair(session: str = "s") -> tuple[PsiClient, PsiServer]:
    return PsiClient(["a", "b", "c"], session, chunk_items=2), PsiServer(["b", "c", "d"], session)


@pytest.mark.parametrize(
    ("mangle", "error", "message"),
    [
        (lambda c: c[:10], WireFormatError, "a PSI chunk is 38 to"),
        (lambda c: c + bytes(MAX_CHUNK_BYTES), WireFormatError, "a PSI chunk is 38 to"),
        (lambda c: b"XXXX" + c[4:], WireFormatError, "bad magic or version"),
        (lambda c: c + b"\x01", WireFormatError, "malformed PSI REQUEST chunk"),
        (lambda c: c[:-POINT_BYTES] + bytes(POINT_BYTES), WireFormatError, "not a valid"),
        (lambda c: c[:-POINT_BYTES] + b"\xff" * POINT_BYTES, WireFormatError, "not a valid"),
        (lambda c: "text", WireFormatError, "must be bytes"),
    ],
)
def test_a_malformed_request_chunk_is_a_wire_error(mangle, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    client, server = _pair()
    with pytest.raises(error, match=message):
        server.response(mangle(client.request()[0]))


def test_a_chunk_of_another_kind_or_session_is_refused() -> None:
    client, server = _pair()
    other_client, other_server = _pair("another")
    with pytest.raises(ProtocolError, match="expected a PSI REQUEST chunk, got SETUP"):
        server.response(other_server.setup()[0])
    with pytest.raises(ProtocolError, match="belongs to another alignment session"):
        server.response(other_client.request()[0])
    response = [server.response(chunk) for chunk in client.request()]
    with pytest.raises(ProtocolError, match="expected a PSI SETUP chunk, got RESPONSE"):
        client.intersection(response, response)


def test_a_replayed_or_missing_chunk_is_refused() -> None:
    client, server = _pair()
    request = client.request()
    assert len(request) == 2
    first = server.response(request[0])
    with pytest.raises(ProtocolError, match="at item 0 arrived twice"):
        server.response(request[0])
    with pytest.raises(ProtocolError, match="RESPONSE is incomplete: 2 of 3 items"):
        client.intersection(server.setup(), [first])
    with pytest.raises(ProtocolError, match="REQUEST is incomplete: 2 of 3 items"):
        server.intersection([])


def test_a_response_for_another_set_size_is_refused() -> None:
    client, server = _pair()
    tag = session_tag(b"s")
    wrong = encode(Kind.RESPONSE, tag, 0, 5, [bytes(16)] * 2)
    with pytest.raises(ProtocolError, match="says the message has 5 items; expected 3"):
        client.intersection(server.setup(), [wrong])


def test_steps_out_of_order_are_protocol_errors() -> None:
    client, server = _pair()
    with pytest.raises(ProtocolError, match="call intersection\\(\\) first"):
        client.reveal()
    for chunk in client.request():
        server.response(chunk)
    with pytest.raises(ProtocolError, match="REVEAL is incomplete: 0 of 3 items"):
        server.intersection([])
