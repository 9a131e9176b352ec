"""The loop behind ``Study.optimize``: ask, schedule, record, tell — resumable at any moment.

Persistence of the strategy: a strategy's state is never pickled. It is rebuilt deterministically
by replaying the study's stored ask/tell log into a freshly constructed strategy (same arguments,
same seed), the contract of ``archspace.search.base``. Each replayed ``ask`` is checked against the
architecture stored for that trial, so a strategy built with different arguments is refused rather
than silently continuing a different sequence. The result each ``tell`` carried is stored in the
log itself, so the replay is exact even after failed trials were retried.

Crash safety: the ask (trial row + log entry), the start and the finish (trial row + tell entry)
are each one transaction. On resume, trials left ``running`` (the driver was killed) or
``interrupted`` (Ctrl-C) go back to ``waiting`` and are evaluated before anything new is asked.
A finished trial is never evaluated again, so none is duplicated, and the loop stops when the
number of finished trials (complete + diverged + failed) reaches ``n_trials``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import StorageError
from archspace.evaluation import Evaluator, Result
from archspace.search.base import SearchExhausted, Strategy
from archspace.study import records
from archspace.study.executors import Executor, Outcome, Task
from archspace.study.progress import ProgressReporter, StudyProgress
from archspace.study.records import result_from_payload, result_payload
from archspace.study.trial_store import TrialStore

MAX_WORKER_DEATHS = 3  # a trial whose worker died this many times is recorded as failed
HEARTBEAT_S = 30.0


def trial_seed(study_seed: int, number: int) -> int:
    """Evaluation seed of trial ``number``: a fixed function of the study seed and the number."""
    return int(np.random.SeedSequence([study_seed, number]).generate_state(1)[0] % (2**31 - 1))


@dataclass
class _Tally:
    finished: int = 0
    failed: int = 0
    diverged: int = 0
    best: float | None = None


class Driver:
    """Runs one study until ``n_trials`` trials are finished or the strategy is exhausted."""

    def __init__(self, store: TrialStore, study_seed: int, strategy: Strategy, evaluator: Evaluator,
                 n_trials: int, executor: Executor, reporter: ProgressReporter | None = None) -> None:
        self.store = store
        self.study_seed = study_seed
        self.strategy = strategy
        self.evaluator = evaluator
        self.n_trials = n_trials
        self.executor = executor
        self.reporter = reporter
        self.archs: dict[int, ArchSpec] = {}
        self.seeds: dict[int, int] = {}
        self.queue: deque[int] = deque()
        self.tally = _Tally()
        self.exhausted = False
        self.next_number = 0

    # --- set-up ----------------------------------------------------------------------------------
    def replay(self) -> None:
        """Feed the stored ask/tell log to the fresh strategy, checking every proposal."""
        stored = {t.number: t for t in self.store.trials()}
        for kind, number, payload in self.store.events():
            if kind == "ask":
                try:
                    arch = self.strategy.ask()
                except SearchExhausted:
                    arch = None
                if arch is None or arch.spec_hash() != stored[number].arch_hash:
                    raise StorageError(
                        f"the strategy does not reproduce this study's stored trial {number}: "
                        "construct it with the same arguments and seed as when the study started")
                self.archs[number] = arch
            else:
                self.strategy.tell(self.archs[number], result_from_payload(payload or "{}"))
        self.seeds = {n: t.seed for n, t in stored.items()}
        self.next_number = max(stored, default=-1) + 1
        for trial in stored.values():
            if trial.state in records.FINISHED_STATES:
                self._count(trial.state, trial.objective)

    def _count(self, state: str, objective: float | None) -> None:
        self.tally.finished += 1
        self.tally.failed += state == records.FAILED
        self.tally.diverged += state == records.DIVERGED
        if state == records.COMPLETE and objective is not None and (
                self.tally.best is None or objective < self.tally.best):
            self.tally.best = objective

    def _progress(self) -> StudyProgress:
        return StudyProgress(self.n_trials, self.tally.finished, self.tally.failed,
                             self.tally.diverged, len(self.executor.in_flight()), self.tally.best)

    # --- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        me = self.store.acquire_lease()
        try:
            self.store.requeue((records.RUNNING, records.INTERRUPTED))
            self.replay()
            self.queue = deque(t.number for t in self.store.trials((records.WAITING,)))
            if self.tally.finished >= self.n_trials:
                return
            self._run_executor(me)
        finally:
            self.store.release_lease(me)

    def _run_executor(self, me: str) -> None:
        if self.reporter is not None:
            self.reporter.start(self._progress())
        self.executor.start(self.evaluator)
        last_beat = time.time()
        try:
            while True:
                self._fill()
                if not self.executor.in_flight():
                    break
                for outcome in self.executor.wait(timeout=1.0):
                    self._handle(outcome)
                if time.time() - last_beat > HEARTBEAT_S:
                    self.store.heartbeat(me)
                    last_beat = time.time()
        except KeyboardInterrupt:
            self.store.set_state(self.executor.in_flight(), records.INTERRUPTED)
            raise
        finally:
            self.executor.shutdown()
            if self.reporter is not None:
                self.reporter.stop()

    def _fill(self) -> None:
        """Give every free slot a trial: re-queued ones first, then new asks."""
        while (self.executor.free_slots() > 0
               and self.tally.finished + len(self.executor.in_flight()) < self.n_trials):
            number = self.queue.popleft() if self.queue else self._ask()
            if number is None:
                return
            self.store.mark_running(number)
            self.executor.submit(Task(number, self.archs[number], self.seeds[number]))

    def _ask(self) -> int | None:
        if self.exhausted:
            return None
        try:
            arch = self.strategy.ask()
        except SearchExhausted:
            self.exhausted = True
            return None
        number = self.next_number
        seed = trial_seed(self.study_seed, number)
        self.store.add_asked_trial(number, arch, seed)
        self.next_number += 1
        self.archs[number], self.seeds[number] = arch, seed
        return number

    def _handle(self, outcome: Outcome) -> None:
        if outcome.lost:
            trial = self.store.trial(outcome.number)
            if trial is not None and trial.attempts < MAX_WORKER_DEATHS:
                self.store.set_state([outcome.number], records.WAITING, outcome.error)
                self.queue.appendleft(outcome.number)
                return
        result = outcome.result if outcome.result is not None else Result(None, status="failed")
        path = None
        if result.predictions:
            path = self.store.write_predictions(outcome.number, result.predictions)
        state = self.store.record_outcome(outcome.number, result, outcome.error, outcome.worker,
                                          outcome.started_at, outcome.finished_at, path)
        # Tell exactly what the log will replay (JSON round trip, no predictions).
        self.strategy.tell(self.archs[outcome.number], result_from_payload(result_payload(result)))
        self._count(state, records.finite_or_none(result.objective))
        if self.reporter is not None:
            self.reporter.update(self._progress())
