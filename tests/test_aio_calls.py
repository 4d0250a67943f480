"""``aiobridge.in_pool``/``in_thread``: one worker-thread hop that reports back with one
loop wake-up, with the results, errors, context and cancellation rule of the
``run_in_executor`` + ``shield`` it replaced (``tests/test_cancel.py`` runs the
store-level cancellations)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from objstore import cancel
from objstore.aiobridge import in_pool, in_thread
from objstore.errors import NoSuchKey, RequestCancelled

WAIT = 30.0
_VAR = contextvars.ContextVar("var", default="unset")


def _raise_no_such_key() -> None:
    raise NoSuchKey("gone", Key="k")


def test_results_errors_and_context_cross_the_hop() -> None:
    async def main() -> None:
        _VAR.set("caller's")
        assert await in_thread(lambda a, *, b: (a, b, _VAR.get()), 1, b=2) == (1, 2, "caller's")
        with pytest.raises(NoSuchKey) as err:
            await in_thread(_raise_no_such_key)
        assert err.value.details["Key"] == "k"
        assert err.traceback[-1].name == "_raise_no_such_key"  # where it was raised
        names: list[str] = []
        with ThreadPoolExecutor(2, thread_name_prefix="own-pool") as pool:
            await in_pool(pool, lambda: names.append(threading.current_thread().name))
        assert names[0].startswith("own-pool")

    asyncio.run(main())


def test_the_default_executor_is_the_loops_even_before_it_exists() -> None:
    names: list[str] = []

    async def main() -> None:
        # A fresh loop has made no default executor yet: the first call lets the
        # loop make it; a set one is used as it is.
        await in_thread(lambda: names.append(threading.current_thread().name))
        with ThreadPoolExecutor(1, thread_name_prefix="set-default") as pool:
            asyncio.get_running_loop().set_default_executor(pool)
            await in_thread(lambda: names.append(threading.current_thread().name))

    asyncio.run(main())
    assert names[0].startswith("asyncio") and names[1].startswith("set-default")


def _blocking_call(started: threading.Event, release: threading.Event, abandon: bool) -> str:
    started.set()
    assert release.wait(WAIT)
    if abandon:
        cancel.checkpoint()  # the token was cancelled: RequestCancelled, nothing kept
    return "done"


@pytest.mark.parametrize("abandon", [False, True], ids=["completed", "abandoned"])
def test_a_cancelled_call_ends_only_with_its_thread(abandon: bool) -> None:
    """Cancelled (twice) while its thread runs: CancelledError arrives only once the
    thread has finished; a call that still completed says so ("cancelled too late")."""

    async def main() -> None:
        started, release = threading.Event(), threading.Event()
        task = asyncio.create_task(in_thread(_blocking_call, started, release, abandon))
        assert await asyncio.to_thread(started.wait, WAIT)
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()  # cancelled again while it waits for the thread
        await asyncio.sleep(0.05)
        assert not task.done()
        release.set()
        with pytest.raises(asyncio.CancelledError) as err:
            await task
        assert ("too late" in str(err.value)) is not abandon

    asyncio.run(main())


def test_a_call_cancelled_as_its_thread_finishes_is_still_reported() -> None:
    """The thread's outcome may reach the loop in the same pass as the cancellation."""

    async def main() -> None:
        for _ in range(50):
            task = asyncio.create_task(in_thread(lambda: "done"))
            await asyncio.sleep(0)
            while not task.done():
                task.cancel()
                await asyncio.sleep(0)
            if task.cancelled():
                continue
            assert task.result() == "done"

    asyncio.run(main())


def test_request_cancelled_in_the_thread_without_a_cancellation_is_an_error() -> None:
    def cancelled_inside() -> None:
        raise RequestCancelled("stopped")

    async def main() -> None:
        with pytest.raises(RuntimeError, match="abandoned"):
            await in_thread(cancelled_inside)

    asyncio.run(main())
