"""The metadata key space: one prefix byte per kind of record.

Every module that writes to the metadata store takes its prefix from here,
so two kinds of record can never collide. All integers in keys are
big-endian so that byte order is numeric order.
"""

from __future__ import annotations

BUCKET = b"B"  # B <bucket>                        -> bucket record
VERSION = b"V"  # V <bucket> 00 <ekey> <inv seq>    -> version record (objects and delete markers)
LATEST = b"L"  # L <bucket> 00 <ekey>              -> summary of the newest version, if an object
NULLVER = b"N"  # N <bucket> 00 <ekey>              -> seq of the key's "null" version
COUNTER = b"S"  # S <name>                          -> 8-byte counter
DATA = b"D"  # D <data id>                       -> data record (refcount, size, state)
MANIFEST = b"M"  # M <data id> <offset>              -> chunk id + length
CHUNKREF = b"C"  # C <chunk id>                      -> reference count
PENDING = b"P"  # P <data id>                       -> upload in progress (for crash cleanup)
DEAD = b"X"  # X <data id>                       -> body no version uses any more (gc drops it)
CONFIG = b"G"  # G <name>                          -> store settings fixed at creation
