"""Studies: persistent, resumable sets of trials in SQLite, run inline, on local processes or Ray.

See ``archspace.study.study`` for the API (``Study.create/load``, ``optimize``,
``trials_dataframe``, ``load_predictions``), ``archspace.study.storage`` for the file format and
``archspace.study.executors`` for where evaluations run.
"""

from archspace.study.executors import (
    InlineExecutor,
    LocalProcessExecutor,
    RayExecutor,
    make_executor,
)
from archspace.study.records import STATES, TrialRecord
from archspace.study.storage import SCHEMA_VERSION, Storage
from archspace.study.study import Study, StudySummary, trials_to_dataframe

__all__ = [
    "SCHEMA_VERSION",
    "STATES",
    "InlineExecutor",
    "LocalProcessExecutor",
    "RayExecutor",
    "Storage",
    "Study",
    "StudySummary",
    "TrialRecord",
    "make_executor",
    "trials_to_dataframe",
]
