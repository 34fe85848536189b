"""A large import spread over processes: ``triage run --workers N``.

Two stages run in parallel, each safe beside other triage processes on the same store:

- reading files: the files are dealt out to N processes, each parsing and storing its share
  (inserts are idempotent, so a message in two shares is stored once);
- classifying: N processes run the model on batches while this process routes, stores and
  links each batch in the order received (so a reply still joins its case after the message it
  answers). At most N + 1 batches are in flight, so memory stays flat in the backlog's size.

Workers are started with ``spawn`` (no inherited database connections or threads) and load the
model once each.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from triage.classify.data import TextInput
    from triage.classify.model import Prediction, TriageModel
    from triage.store.db import Counts


class Pending(Protocol):
    def result(self) -> list[Prediction]: ...


class Predictor(Protocol):
    """Runs the model on a batch, here or in another process; ``in_flight`` batches may wait."""

    in_flight: int

    def submit(self, inputs: list[TextInput]) -> Pending: ...


class _Done:
    def __init__(self, value: list[Prediction]) -> None:
        self.value = value

    def result(self) -> list[Prediction]:
        return self.value


class InProcess:
    """The model in this process: each batch is predicted when submitted."""

    in_flight = 0

    def __init__(self, model: TriageModel) -> None:
        self.model = model

    def submit(self, inputs: list[TextInput]) -> Pending:
        from triage.classify.service import predict

        return _Done(predict(self.model, inputs))


_worker_model: TriageModel | None = None
_worker_load_error: BaseException | None = None


def _load_model(model_dir: str) -> None:
    """A worker's initializer. A model that cannot be loaded is reported by the first batch given
    to this worker to predict, not here: the same processes read the files first, and the files
    are stored whatever the model (the parent then fails on the model with its own message)."""
    global _worker_model, _worker_load_error
    from triage.classify.service import load_model

    try:
        _worker_model, _ = load_model(model_dir)
    except Exception as exc:
        _worker_load_error = exc


def _predict(inputs: list[TextInput]) -> list[Prediction]:
    if _worker_load_error is not None:
        raise _worker_load_error
    assert _worker_model is not None, "the worker's model is loaded by its initializer"
    from triage.classify.service import predict

    return predict(_worker_model, inputs)


class InWorkers:
    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self.pool, self.in_flight = pool, workers

    def submit(self, inputs: list[TextInput]) -> Future[list[Prediction]]:
        return self.pool.submit(_predict, inputs)


def spawn_pool(workers: int, initializer: object = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=initargs,  # type: ignore[arg-type]
    )


@contextmanager
def worker_predictor(model_dir: Path | None, workers: int) -> Iterator[InWorkers]:
    """``workers`` processes, each with the model loaded from ``model_dir`` (when given). The
    same processes read mail files (:func:`ingest_files`), so a large import starts them once."""
    with spawn_pool(workers, *((_load_model, (str(model_dir),)) if model_dir is not None else ())) as pool:
        yield InWorkers(pool, workers)


def _ingest_share(
    url: str, name: str, paths: list[str], channel: str, senders: list[str], run_id: int
) -> tuple[Counts, str | None]:
    from triage.jobs import _ingest_one, mail_items
    from triage.store.db import Store

    files = [Path(p) for p in paths]
    with Store(url, upgrade=False) as store:
        result = _ingest_one(store, name, run_id, lambda: mail_items(files, channel, senders), require_some=False)
    return result.counts, result.error


def ingest_files(
    url: str,
    name: str,
    paths: list[Path],
    channel: str,
    senders: list[str],
    run_id: int,
    workers: int,
    pool: ProcessPoolExecutor | None = None,
) -> tuple[Counts, str | None]:
    """Parse and store mail files in ``workers`` processes (``pool``'s, or new ones); returns the
    summed counts and the first error."""
    from triage.errors import InputError
    from triage.ingest.files import iter_paths
    from triage.store.db import Counts

    try:
        files = [str(p) for p in iter_paths(paths)]
    except InputError as exc:
        return Counts(), str(exc)
    shares = [files[i::workers] for i in range(workers)]
    total, error = Counts(), None
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(spawn_pool(workers))
        futures = [pool.submit(_ingest_share, url, name, share, channel, senders, run_id) for share in shares if share]
        for f in futures:
            counts, err = f.result()
            total.add(counts)
            error = error or err
    return total, error
