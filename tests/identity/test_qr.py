"""QR rendering of otpauth URIs: non-empty output, clean failures."""

from __future__ import annotations

import struct

import pytest

from objstore.errors import InvalidInput
from objstore.identity.qr import render_png, render_terminal
from objstore.identity.totp import otpauth_uri, seed_to_base32

URI = otpauth_uri(seed_to_base32(bytes(range(20))), "123456789012", "yash")


def test_terminal_rendering_is_a_square_of_blocks() -> None:
    """Rows of equal width, made only of block characters, spaces and newlines."""
    text = render_terminal(URI)
    rows = text.splitlines()
    assert text.endswith("\n") and len(rows) > 10
    assert len({len(r) for r in rows}) == 1
    # Two module rows per line: the width (modules) is about twice the number of lines.
    assert abs(len(rows[0]) - 2 * len(rows)) <= 2
    assert set(text) <= {"\u2588", "\u2580", "\u2584", " ", "\n"}
    assert "\u2584" in text or "\u2580" in text


def test_rendering_depends_on_the_data() -> None:
    """Different seeds draw different codes; the same URI draws the same code."""
    other = otpauth_uri(seed_to_base32(bytes(range(1, 21))), "123456789012", "yash")
    assert render_terminal(URI) == render_terminal(URI)
    assert render_terminal(URI) != render_terminal(other)


def test_border_changes_the_size() -> None:
    """A wider quiet zone adds rows and columns; zero is allowed."""
    assert len(render_terminal(URI, border=4)) > len(render_terminal(URI, border=0))
    for bad in (-1, True, 1.5):
        with pytest.raises(InvalidInput):
            render_terminal(URI, border=bad)  # type: ignore[arg-type]


def test_non_ascii_data() -> None:
    """A label with non-ASCII text (percent-encoded or raw) renders."""
    assert render_terminal(otpauth_uri(seed_to_base32(bytes(20)), "acct", "Zo\u00eb"))
    assert render_terminal("otpauth://totp/\u4e2d\u6587?secret=AAAA")


def test_png_is_a_png_of_the_right_size() -> None:
    """PNG signature, and the IHDR width grows with the scale."""
    small, large = render_png(URI, scale=1), render_png(URI, scale=8)
    for png in (small, large):
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width_small = struct.unpack(">I", small[16:20])[0]
    width_large = struct.unpack(">I", large[16:20])[0]
    assert width_large == 8 * width_small
    for bad in (0, 65, False):
        with pytest.raises(InvalidInput):
            render_png(URI, scale=bad)


@pytest.mark.parametrize("data", ["", None, b"otpauth://x"])
def test_empty_or_non_text(data: object) -> None:
    """Nothing to draw is InvalidInput."""
    with pytest.raises(InvalidInput):
        render_terminal(data)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        render_png(data)  # type: ignore[arg-type]


def test_too_long_input_fails_cleanly() -> None:
    """Past the largest QR code's capacity: InvalidInput, not segno's exception."""
    assert render_terminal("x" * 2000)  # still fits
    for data in ("x" * 5000, "\u00e9" * 3000):
        with pytest.raises(InvalidInput, match="does not fit"):
            render_terminal(data)
        with pytest.raises(InvalidInput):
            render_png(data)
