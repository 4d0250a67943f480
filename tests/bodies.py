"""Request bodies for tests: a client that goes away part way through its upload."""

from __future__ import annotations

import io


class CutOff(io.RawIOBase):
    """``data``'s first ``cut`` bytes, then OSError (the client went away)."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data = data
        self.cut = cut
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        if self.pos >= self.cut:
            raise OSError("test: the client went away")
        n = min(len(b), self.cut - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n
