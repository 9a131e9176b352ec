"""Executors: where a study's evaluations run. The driver stays the only database writer.

- ``InlineExecutor()`` (default): evaluates in the driver process, one trial at a time.
- ``LocalProcessExecutor(workers=None)``: ``workers`` child processes (default: the number of
  cores), each holding its own copy of the evaluator (pickled once at start). Each worker uses
  ``threads_per_worker`` torch threads (default 1: parallelism across trials, not inside one; on
  the shared 2-core benchmark machine one worker with 2 OpenMP threads trained 14x slower than with
  1, see BENCHMARKS.md). A worker that dies (killed, out of memory) is replaced and its trial is
  reported ``lost`` so the study re-queues it.
- ``RayExecutor(address=None, num_cpus=None)``: Ray tasks, on an existing cluster
  (``address="ray://head:10001"`` or ``"auto"``) or on a local Ray started for the run with
  ``ray.init(num_cpus=...)`` and shut down afterwards. The evaluator is put in the object store
  once; ``runtime_env`` (e.g. ``{"working_dir": "."}``) is passed to ``ray.init``. Multi-node: start ``ray start --head`` on one machine and ``ray start --address=HEAD:6379``
  on the others (same Python environment, archspace installed, data at the same paths), then run
  the study on the head with ``--ray auto``.

Every executor speaks the same small protocol: ``start(evaluator)``, ``free_slots()``,
``submit(task)``, ``wait(timeout) -> list[Outcome]``, ``in_flight()``, ``shutdown()``.
Evaluators and architecture specs must be picklable.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from typing import Any, Protocol

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Evaluator, Result
from archspace.numerics import declares_settings, numeric_settings


@dataclass
class Task:
    """One evaluation to run: trial ``number`` of ``arch`` with ``seed``."""

    number: int
    arch: ArchSpec
    seed: int


@dataclass
class Outcome:
    """What came back for a task: a result, an error traceback, or ``lost`` (the worker died)."""

    number: int
    result: Result | None
    error: str | None
    worker: str
    started_at: float
    finished_at: float
    lost: bool = False


def run_task(evaluator: Evaluator, task: Task, worker: str) -> Outcome:
    """Evaluate one task; an exception becomes a ``failed`` outcome carrying its traceback.

    Every executor comes here, so every trial runs under the same numeric settings (torch threads,
    deterministic mode; see ``archspace.numerics``) wherever it runs, and records them.
    """
    started = time.time()
    settings = numeric_settings(evaluator)
    try:
        with settings.applied(needs_torch=declares_settings(evaluator)):
            result = evaluator.evaluate(task.arch, task.seed)
        if not isinstance(result, Result):
            raise TypeError(f"evaluator returned {type(result).__name__}, expected archspace Result")
        result.info = {**(result.info or {}), "numerics": settings.record(task.seed)}
        error = None
    except Exception:  # noqa: BLE001 - any evaluator error is recorded, the study goes on
        result, error = None, traceback.format_exc()
    return Outcome(task.number, result, error, worker, started, time.time())


def worker_name(index: int | str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class Executor(Protocol):
    def start(self, evaluator: Evaluator) -> None: ...
    def free_slots(self) -> int: ...
    def submit(self, task: Task) -> None: ...
    def wait(self, timeout: float | None = None) -> list[Outcome]: ...
    def in_flight(self) -> list[int]: ...
    def shutdown(self) -> None: ...


class InlineExecutor:
    """Run each evaluation in the driver process when ``wait`` is called."""

    def __init__(self) -> None:
        self._evaluator: Evaluator | None = None
        self._pending: Task | None = None
        self._name = worker_name("inline")

    def start(self, evaluator: Evaluator) -> None:
        self._evaluator = evaluator

    def free_slots(self) -> int:
        return 0 if self._pending is not None else 1

    def submit(self, task: Task) -> None:
        self._pending = task

    def in_flight(self) -> list[int]:
        return [] if self._pending is None else [self._pending.number]

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if self._pending is None or self._evaluator is None:
            return []
        outcome = run_task(self._evaluator, self._pending, self._name)
        self._pending = None
        return [outcome]

    def shutdown(self) -> None:
        self._pending = None


# --- local processes -----------------------------------------------------------------------------
def _worker_main(conn: Connection, evaluator_bytes: bytes, name: str, threads: int) -> None:
    """Child process: evaluate tasks received on ``conn`` until ``None`` arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what Ctrl-C means
    os.environ["OMP_NUM_THREADS"] = str(threads)  # honoured if torch is imported later
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    evaluator = pickle.loads(evaluator_bytes)
    label = f"{socket.gethostname()}:{os.getpid()}:{name}"
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(run_task(evaluator, task, label))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: Task | None = None
    started: float = 0.0


class LocalProcessExecutor:
    """A fixed set of worker processes on this machine, one task each at a time."""

    def __init__(self, workers: int | None = None, start_method: str = "forkserver",
                 threads_per_worker: int | None = None) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if count < 1:
            raise UsageError(f"workers must be >= 1, got {count}")
        if threads_per_worker is not None and threads_per_worker < 1:
            raise UsageError(f"threads_per_worker must be >= 1, got {threads_per_worker}")
        self.workers = count
        self._context = multiprocessing.get_context(start_method)
        self._evaluator_bytes = b""
        self._pool: list[_Worker] = []
        self._spawned = 0
        self._threads = threads_per_worker or 1

    def start(self, evaluator: Evaluator) -> None:
        try:
            self._evaluator_bytes = pickle.dumps(evaluator)
        except Exception as exc:
            raise UsageError(f"the evaluator must be picklable to run in worker processes: {exc}") from None
        if self._context.get_start_method() == "forkserver":
            # Import the evaluator's module (and torch, if it uses it) once in the fork server, so
            # every worker, replacements included, starts with it already loaded.
            self._context.set_forkserver_preload([__name__, type(evaluator).__module__])
        self._pool = [self._spawn() for _ in range(self.workers)]

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        name = f"w{self._spawned}"
        self._spawned += 1
        process = self._context.Process(
            target=_worker_main, args=(child, self._evaluator_bytes, name, self._threads),
            daemon=True, name=f"archspace-{name}")
        process.start()
        child.close()
        return _Worker(process, parent)

    @property
    def pids(self) -> list[int]:
        """Process ids of the current workers (tests kill one)."""
        return [w.process.pid for w in self._pool]

    def free_slots(self) -> int:
        return sum(1 for w in self._pool if w.task is None)

    def in_flight(self) -> list[int]:
        return [w.task.number for w in self._pool if w.task is not None]

    def submit(self, task: Task) -> None:
        for worker in self._pool:
            if worker.task is None:
                worker.task, worker.started = task, time.time()
                # A dead worker cannot take the task; wait() notices and reports it lost.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
                    worker.conn.send(task)
                return
        raise RuntimeError("submit() called without a free worker")

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        busy = [w for w in self._pool if w.task is not None]
        if not busy:
            return []
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(wait_for(handles, timeout))
        outcomes = []
        for worker in busy:
            if worker.conn in ready:
                try:
                    outcome = worker.conn.recv()
                except (EOFError, OSError):
                    outcome = None
                if outcome is not None:
                    worker.task = None
                    outcomes.append(outcome)
                    continue
            if worker.conn in ready or worker.process.sentinel in ready:
                outcomes.append(self._replace_dead(worker))
        return outcomes

    def _replace_dead(self, worker: _Worker) -> Outcome:
        """The worker died mid-task: report the task lost and start a replacement."""
        task = worker.task
        assert task is not None
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        worker.conn.close()
        fresh = self._spawn()
        self._pool[self._pool.index(worker)] = fresh
        message = f"worker process {worker.process.pid} died (exit code {code}) while evaluating"
        if code == 1:
            message += ("; if the driving script starts a study at import time, put that code under "
                        "`if __name__ == \"__main__\":` (worker processes import the script)")
        return Outcome(task.number, None, message, worker_name(worker.process.pid),
                       worker.started, time.time(), lost=True)

    def shutdown(self) -> None:
        for worker in self._pool:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
                worker.conn.send(None)
        deadline = time.time() + 5
        for worker in self._pool:
            if worker.task is not None:
                worker.process.terminate()  # busy: do not wait for a long evaluation
            worker.process.join(timeout=max(0.1, deadline - time.time()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
            worker.conn.close()
        self._pool = []


# --- Ray -----------------------------------------------------------------------------------------
def _ray_evaluate(evaluator: Evaluator, task: Task) -> Outcome:
    return run_task(evaluator, task, worker_name("ray"))


class RayExecutor:
    """Ray tasks on a cluster (``address``) or on a local Ray started for the run."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 max_in_flight: int | None = None, num_cpus_per_task: float = 1.0,
                 runtime_env: dict[str, Any] | None = None) -> None:
        self.address = address
        self.runtime_env = runtime_env
        self.num_cpus = num_cpus
        self.num_cpus_per_task = num_cpus_per_task
        self._max_in_flight = max_in_flight
        self._started_ray = False
        self._futures: dict[Any, Task] = {}
        self._remote: Any = None
        self._evaluator_ref: Any = None
        self._capacity = 1

    def check(self) -> None:
        """Before any work: ray is installed and, for ``address="auto"``, a cluster is running."""
        try:
            import ray
        except ImportError:
            raise UsageError("the Ray executor needs ray: pip install 'archspace[ray]'") from None
        if self.address == "auto" and not ray.is_initialized():
            try:
                from ray._private.services import canonicalize_bootstrap_address
            except ImportError:  # a Ray without this helper: ray.init reports it in start()
                return
            try:
                canonicalize_bootstrap_address("auto")
            except ConnectionError:
                raise UsageError("--ray auto: no running Ray cluster found (start one with `ray start --head`, "
                                 "set RAY_ADDRESS, or use --ray without an address for a local Ray)") from None

    def start(self, evaluator: Evaluator) -> None:
        self.check()
        import ray

        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.runtime_env:
                kwargs["runtime_env"] = self.runtime_env
            try:
                if self.address:
                    ray.init(address=self.address, **kwargs)
                else:
                    ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, **kwargs)
            except (ConnectionError, ValueError) as exc:
                raise UsageError(f"Ray could not start or connect to {self.address or 'a local Ray'}: "
                                 f"{str(exc).splitlines()[0]}") from None
            self._started_ray = True
        self._remote = ray.remote(num_cpus=self.num_cpus_per_task, max_retries=0)(_ray_evaluate)
        self._evaluator_ref = ray.put(evaluator)
        cpus = ray.cluster_resources().get("CPU", 1)
        self._capacity = self._max_in_flight or max(1, int(cpus // self.num_cpus_per_task))

    def free_slots(self) -> int:
        return max(0, self._capacity - len(self._futures))

    def in_flight(self) -> list[int]:
        return [task.number for task in self._futures.values()]

    def submit(self, task: Task) -> None:
        self._futures[self._remote.remote(self._evaluator_ref, task)] = task

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        import ray

        if not self._futures:
            return []
        done, _ = ray.wait(list(self._futures), num_returns=1, timeout=timeout)
        rest = [f for f in self._futures if f not in done]
        if done and rest:  # collect everything else that is already finished too
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            done = list(done) + list(more)
        outcomes = []
        for future in done:
            task = self._futures.pop(future)
            try:
                outcomes.append(ray.get(future))
            except ray.exceptions.RayTaskError as exc:  # e.g. the task could not be unpickled
                now = time.time()
                outcomes.append(Outcome(task.number, None, str(exc), worker_name("ray"), now, now))
            except Exception as exc:  # noqa: BLE001 - the Ray worker died or the task was lost
                now = time.time()
                outcomes.append(Outcome(task.number, None, f"Ray task lost: {exc}",
                                        worker_name("ray"), now, now, lost=True))
        return outcomes

    def shutdown(self) -> None:
        import ray

        for future in list(self._futures):
            ray.cancel(future, force=True)
        self._futures.clear()
        if self._started_ray and ray.is_initialized():
            ray.shutdown()
        self._started_ray = False


def make_executor(workers: int | None = None, ray_address: str | None = None,
                  use_ray: bool = False, num_cpus: int | None = None) -> Executor:
    """Executor for the CLI options: ``--ray [ADDRESS]``, ``--workers N`` or inline; everything
    that can be checked before work (worker count, Ray installed, a cluster for ``auto``) is."""
    if use_ray:
        executor = RayExecutor(address=ray_address, num_cpus=num_cpus)
        executor.check()
        return executor
    if workers is not None:
        return LocalProcessExecutor(workers)
    return InlineExecutor()
