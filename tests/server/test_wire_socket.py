"""The framing written by hand for the one-write path: what the websockets library would write."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from backprop_lab.server.web.wire_socket import framed, unframed


def library_framing(parts: tuple[str | bytes, ...]) -> bytes:
    return b"".join(
        Frame(Opcode.TEXT, part.encode()).serialize(mask=False) if isinstance(part, str)
        else Frame(Opcode.BINARY, part).serialize(mask=False)
        for part in parts
    )


# payload lengths on each side of the header's three sizes (7 bits, 16 bits, 64 bits)
@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70001])
def test_texts_and_binaries_of_every_length_are_framed_as_the_websockets_library_frames_them(size):
    parts = ("é" * (size // 2) + "x" * (size % 2), bytes(range(256)) * (size // 256) + bytes(size % 256))
    assert framed(parts) == library_framing(parts)
    assert unframed(framed(parts)) == list(parts)
