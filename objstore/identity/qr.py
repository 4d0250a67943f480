"""QR codes for MFA seeds: the otpauth URI drawn in a terminal, or as AWS's ``QRCodePNG``.

Why: a virtual MFA device is set up by scanning its ``otpauth://`` URI with a phone. The command
line prints the code in the terminal; the API returns a PNG as AWS's CreateVirtualMFADevice
does. Encoding is :mod:`segno`'s (a maintained, dependency-free QR encoder); this wrapper only
fixes the choices - a full-size QR code (authenticator apps do not read Micro QR), error
correction level M or better, a quiet zone - and turns every failure into :class:`InvalidInput`.

The terminal form uses Unicode half blocks, two module rows per text line, light modules drawn
as blocks so that the code reads correctly on the usual dark terminal background.
"""

from __future__ import annotations

import io

import segno

from objstore.errors import InvalidInput

__all__ = ["render_png", "render_terminal"]


def _make(data: str) -> segno.QRCode:
    if not isinstance(data, str) or not data:
        raise InvalidInput("a QR code needs non-empty text")
    try:
        # boost_error (segno's default) raises the error level above M when it costs nothing.
        return segno.make_qr(data, error="m")
    except ValueError as err:  # segno.DataOverflowError is a ValueError
        raise InvalidInput(f"the text does not fit in a QR code: {err}") from None


def render_terminal(data: str, *, border: int = 2) -> str:
    """``data`` as a QR code made of text, one string ending in a newline.

    Raises :class:`InvalidInput` for empty text, text too long for any QR code (about 2,300
    bytes at level M) or a negative border.
    """
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise InvalidInput("the QR border must be a non-negative integer")
    out = io.StringIO()
    _make(data).terminal(out=out, border=border, compact=True)
    return out.getvalue()


def render_png(data: str, *, scale: int = 4) -> bytes:
    """``data`` as a PNG image (the standard 4-module quiet zone), ``scale`` pixels a module.

    Raises :class:`InvalidInput` as :func:`render_terminal` does, and for a scale below one.
    """
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 64:
        raise InvalidInput("the QR scale must be an integer from 1 to 64")
    out = io.BytesIO()
    _make(data).save(out, kind="png", scale=scale)
    return out.getvalue()
