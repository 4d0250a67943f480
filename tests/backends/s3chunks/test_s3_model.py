"""S3ChunkStore against a model (a dict): random sequences of puts, deletes, batch forms and
quarantines agree with it, in gets, has, stat and listings."""

from __future__ import annotations

import uuid

import blake3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from objstore.backends.s3 import S3ChunkStore
from objstore.blob.chunkstore import ChunkId, ChunkMissing
from tests.backends.s3chunks.conftest import S3Target

# A small pool of bodies, so that sequences put, delete and put again the same chunks.
BODIES = [bytes([i]) * (i * 997 % 5000) for i in range(8)]


def cid_of(data: bytes) -> ChunkId:
    return ChunkId(blake3.blake3(data).digest())


def test_random_sequences_agree_with_a_dict(s3_env: S3Target, s3_bucket: str) -> None:
    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # A prefix of its own per run: runs share the bucket, never their chunks.
            self.store = S3ChunkStore(
                s3_bucket, f"model-{uuid.uuid4().hex}", endpoint=s3_env.endpoint, concurrency=4
            )
            self.model: dict[ChunkId, bytes] = {}

        @rule(i=st.integers(0, len(BODIES) - 1))
        def put(self, i: int) -> None:
            self.store.put(cid_of(BODIES[i]), memoryview(BODIES[i]))
            self.model[cid_of(BODIES[i])] = BODIES[i]

        @rule(picks=st.sets(st.integers(0, len(BODIES) - 1), max_size=4))
        def put_many(self, picks: set[int]) -> None:
            self.store.put_many((cid_of(BODIES[i]), BODIES[i]) for i in picks)
            self.model.update((cid_of(BODIES[i]), BODIES[i]) for i in picks)

        @rule(i=st.integers(0, len(BODIES) - 1))
        def delete(self, i: int) -> None:
            self.store.delete(cid_of(BODIES[i]))
            self.model.pop(cid_of(BODIES[i]), None)

        @rule(picks=st.sets(st.integers(0, len(BODIES) - 1), max_size=4))
        def delete_many(self, picks: set[int]) -> None:
            self.store.delete_many(cid_of(BODIES[i]) for i in picks)
            for i in picks:
                self.model.pop(cid_of(BODIES[i]), None)

        @rule(i=st.integers(0, len(BODIES) - 1))
        def set_aside(self, i: int) -> None:
            cid = cid_of(BODIES[i])
            assert self.store.set_aside(cid) == (cid in self.model)
            self.model.pop(cid, None)

        @rule(i=st.integers(0, len(BODIES) - 1))
        def read(self, i: int) -> None:
            cid = cid_of(BODIES[i])
            st_ = self.store.stat(cid)
            if cid in self.model:
                assert self.store.get(cid) == self.model[cid]
                assert st_ is not None and st_[0] == len(self.model[cid])
            else:
                assert st_ is None and not self.store.has(cid)
                try:
                    self.store.get(cid)
                except ChunkMissing:
                    pass
                else:
                    raise AssertionError("an absent chunk was read")

        @rule()
        def listing_and_has_many_match(self) -> None:
            everything = [cid_of(b) for b in BODIES]
            assert self.store.has_many(everything) == set(self.model)
            assert sorted(self.store.iter_ids()) == sorted(self.model)

        def teardown(self) -> None:
            self.listing_and_has_many_match()  # at the end of every run, at least
            self.store.close()

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=6,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
