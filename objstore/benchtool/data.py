"""Synthetic bodies, generated as fast as a disk takes them, never a Python loop over bytes.

Unique bytes are AES-CTR keystream (``cryptography``, AES-NI: several GB/s per core;
``os.urandom`` and BLAKE3's XOF manage a few hundred MB/s here), so the generator does
not hide the store's cost. Each stream has its own nonce, so no two streams, blocks or
runs share content and nothing deduplicates by accident. Duplicate blocks are copies of
one pre-made block. A stream is laid out in blocks of ``block_size`` from its first
byte; with the store's fixed chunking (and a block size equal to its chunk size) every
duplicate block is exactly one duplicate chunk.
"""

from __future__ import annotations

import os
import threading

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from objstore.benchtool.config import DataSpec

__all__ = ["BodyStream", "DataSource"]

_PIECE = 1 << 20  # keystream per call: stays in cache, so it runs at memory speed
_SLACK = 15  # update_into needs this much room past the bytes it writes (AES block - 1)


class DataSource:
    """Makes bodies of the configured kind; thread-safe (each stream is independent)."""

    def __init__(self, spec: DataSpec, block_size: int, *, key: bytes | None = None) -> None:
        self.spec = spec
        self.block_size = block_size
        self._key = key or os.urandom(32)
        self.zeros = memoryview(bytes(_PIECE))
        self._lock = threading.Lock()
        self._streams = 0
        self._blocks = 0  # blocks handed out so far: duplicates spread over all streams
        if spec.kind == "zeros":
            self.dup_block = memoryview(bytes(block_size))
        else:
            # The one block every duplicate repeats (its own nonce: 2**64 - 1, never a
            # stream's); made only when duplicates are wanted.
            self.dup_block = memoryview(b"")
            if spec.repeated > 0:
                block = bytearray(block_size)
                self._keystream(2**64 - 1, block)
                self.dup_block = memoryview(bytes(block))

    def _cipher(self, nonce: int) -> CipherContext:
        iv = nonce.to_bytes(8, "big") + bytes(8)  # 64-bit nonce, 64-bit block counter
        return Cipher(algorithms.AES(self._key), modes.CTR(iv)).encryptor()

    def _keystream(self, nonce: int, out: bytearray) -> None:
        stream = BodyStream(self, 0.0, 0, len(out), nonce)
        view = memoryview(out)
        while n := stream.readinto(view):
            view = view[n:]

    def stream(self, size: int) -> BodyStream:
        """A new body of ``size`` bytes, unique apart from the duplicate blocks."""
        with self._lock:
            self._streams += 1
            nonce = self._streams
            first = self._blocks
            self._blocks += -(-size // self.block_size)
        return BodyStream(self, self.spec.repeated, first, size, nonce)

    @staticmethod
    def is_duplicate(block: int, fraction: float) -> bool:
        """Whether block number ``block`` (counted over every stream made) repeats the
        shared block. Spread evenly: of any n consecutive blocks, n * fraction repeat,
        give or take one, so small streams deduplicate as the fraction says."""
        return int((block + 1) * fraction) > int(block * fraction)

    def fill(self, buffer: bytearray) -> None:
        """Fill ``buffer`` with unique bytes (for the raw-disk baseline)."""
        with self._lock:
            self._streams += 1
            nonce = self._streams
        self._keystream(nonce, buffer)


class BodyStream:
    """A ``readinto`` body of a known size (what ``put_object`` and ``upload_part`` read).

    Also a seekable file for S3 clients, which read a body once to hash or sign it and
    rewind it to send it: the same position always yields the same bytes."""

    def __init__(
        self,
        source: DataSource,
        dup_fraction: float,
        first_block: int,
        size: int,
        nonce: int,
    ) -> None:
        self._source = source
        self._dup = dup_fraction
        self._first_block = first_block
        self._nonce = nonce
        self._cipher = source._cipher(nonce)
        self.size = size
        self._pos = 0

    def readinto(self, target: memoryview | bytearray) -> int:
        """Write the next bytes into ``target``; 0 at the end. Returns the count."""
        block_size = self._source.block_size
        block, offset = divmod(self._pos, block_size)
        n = min(len(target), self.size - self._pos, block_size - offset)
        if n <= 0:
            return 0
        out = memoryview(target)
        if self._dup and self._source.is_duplicate(self._first_block + block, self._dup):
            out[:n] = self._source.dup_block[offset : offset + n]
        else:
            n = min(n, _PIECE)
            if len(out) >= n + _SLACK:
                self._cipher.update_into(self._source.zeros[:n], out)
            else:  # the tail of the caller's buffer: through a scratch copy
                scratch = bytearray(n + _SLACK)
                self._cipher.update_into(self._source.zeros[:n], scratch)
                out[:n] = memoryview(scratch)[:n]
        self._pos += n
        return n

    def tell(self) -> int:
        """The position of the next byte read."""
        return self._pos

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move to ``offset`` (from the start, the position or the end); returns the new
        position. Raises OSError for a position before the start."""
        target = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.size}[whence]
        target += offset
        if target < 0:
            raise OSError(f"seek to {target}: before the start of the body")
        target = min(target, self.size)
        if target < self._pos:
            # The keystream only runs forward: start it again and skip (clients rewind to
            # the start, so the skip is empty in practice).
            self._cipher = self._source._cipher(self._nonce)
            self._pos = 0
        skip = memoryview(bytearray(min(target - self._pos, _PIECE)))
        while self._pos < target:
            self.readinto(skip[: target - self._pos])
        return self._pos

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all the rest if negative)."""
        want = self.size - self._pos if size < 0 else min(size, self.size - self._pos)
        buf = bytearray(want)
        view = memoryview(buf)
        got = 0
        while got < want and (n := self.readinto(view[got:])):
            got += n
        return bytes(buf[:got])
