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
COUNTER = b"S"  # S <name>                          -> 8-byte counter (seq, gc generation, stat.*)
DATA = b"D"  # D <data id>                       -> data record (refcount, size, state)
MANIFEST = b"M"  # M <data id> <offset>              -> chunk id + length
CHUNKREF = b"C"  # C <chunk id>                      -> refs, length, gen refs fell to 0, flags
PENDING = b"P"  # P <data id>                       -> lease id of an upload in progress
DEAD = b"X"  # X <data id>                       -> gen at which no version used it (gc drops it)
LEASE = b"H"  # H <lease id>                      -> a store handle's lease (see blob/leases.py)
DOOMED = b"K"  # K <chunk id>                      -> gc deleting the chunk: owner lease, done gen
SEGMENT = b"Q"  # Q <data id> <offset>              -> composite segment (sub id, offset, length)
PART_SUMS = b"W"  # W <data id>                     -> a composite's part checksums (joined digests)
UPLOAD = b"U"  # U <bucket> 00 <ekey> <upload id>  -> multipart upload in progress
PART = b"T"  # T <upload id> <part number>       -> uploaded part (its body, size, digests)
COMPLETED = b"O"  # O <upload id>                  -> a completed upload's result, for a retry
CONFIG = b"G"  # G <name>                          -> store settings fixed at creation
# B's settings too large for the record every request decodes (CORS rules, tags).
BUCKET_SETTING = b"F"  # F <bucket> 00 <name>          -> a bucket setting (JSON, creation stamp)

# Identities (objstore/identity/): lower-case letters, so storage kinds keep the upper case.
# Names in keys are lower-cased: IAM names are unique case-insensitively.
IAM_USER = b"u"  # u <lower name>                    -> user (attachments, groups, login profile)
IAM_GROUP = b"g"  # g <lower name>                   -> group (members, attachments)
IAM_ROLE = b"r"  # r <lower name>                    -> role (trust policy, attachments)
IAM_POLICY = b"p"  # p <lower name>                  -> managed policy and its versions
IAM_ACCESS_KEY = b"k"  # k <access key id>           -> owner, status, sealed secret, last used
IAM_MFA = b"f"  # f <lower device name>              -> virtual MFA device (sealed seed)
IAM_OIDC = b"o"  # o <provider host/path>            -> OpenID Connect provider
IAM_ACCOUNT = b"a"  # a <name>                       -> root's credentials, password policy, report
IAM_GENERATION = b"e"  # e                           -> 8-byte counter every IAM write bumps
IAM_USER_ID = b"i"  # i <lower user id>                -> a renamed user's current name
AUDIT = b"z"  # z <time ns 8> <random 4>             -> one audit event (JSON)
BUCKET_POLICY = b"q"  # q <bucket>                   -> policy, creation stamp, principal ids
