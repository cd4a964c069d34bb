"""The plaintext inside a sealed box: calls and arrays, never pickle."""

from __future__ import annotations

import numpy as np
import pytest

from vfl.errors import ProtocolError
from vfl.flower.wire import Item, decode_items, encode_items


def test_items_round_trip_with_arrays() -> None:
    ids = np.array([5, 1, 9], dtype=np.int64)
    grad = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    items = [
        Item("backward", {}, {"ids": ids, "grad": grad}),
        Item("embed", {"train": True}, {"ids": ids}),
    ]
    out = decode_items(encode_items(items))
    assert [i.op for i in out] == ["backward", "embed"]
    assert out[1].args == {"train": True}
    np.testing.assert_array_equal(out[0].arrays["grad"], grad)
    np.testing.assert_array_equal(out[1].arrays["ids"], ids)
    assert out[0].arrays["grad"].flags.writeable


def test_alignment_messages_travel_with_their_bytes_and_string_ids() -> None:
    """PSI chunks are bytes and the index is string IDs: both fit the Flower wire."""
    from vfl.flower.protocol import from_item, to_item
    from vfl.protocol import messages as m

    chunk = bytes(range(256)) * 3
    sent = [m.AlignRequest("s1", chunk), m.SetIndex("s1", ("a", "b"), ("c",), "f", ("x",))]
    out = decode_items(encode_items([to_item(msg) for msg in sent]))
    assert [from_item(item, m.REQUESTS) for item in out] == sent
    with pytest.raises(ProtocolError, match="past the end"):
        head = encode_items([to_item(sent[0])])
        decode_items(head[: len(head) - 1])


def test_only_float32_and_int64_travel() -> None:
    with pytest.raises(ProtocolError, match="dtype"):
        encode_items([Item("embed", arrays={"ids": np.array(["a"], dtype=object)})])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x04pickle",
        encode_items([Item("embed", arrays={"ids": np.arange(8)})])[:-8],
        b"VFW1"
        + len(b'[{"op":"x","args":{},"arrays":[1]}]').to_bytes(4, "little")
        + b'[{"op":"x","args":{},"arrays":[1]}]',
    ],
    ids=["empty", "pickle", "truncated", "arrays-not-a-mapping"],
)
def test_malformed_payloads_are_protocol_errors(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_items(data)
