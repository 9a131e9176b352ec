"""Store an evaluator's configuration with a study, and rebuild the evaluator from it.

An evaluator is described by its class (``module:QualName``) plus, in order of preference:
``to_config()`` / ``from_config(config)`` if the class defines them; its constructor arguments
read back from attributes of the same names (``archspace.configs.init_parameters``) when they are
all plain JSON values; or its pickle (base64) when that is small. ``Study.evaluator()`` rebuilds
it so that a study can be resumed without repeating the evaluator's arguments, and worker processes
get their own copy the same way they get tasks: by pickling.
"""

from __future__ import annotations

import base64
import importlib
import json
import pickle
from typing import Any

from archspace.configs import init_parameters
from archspace.errors import StorageError
from archspace.evaluation import Evaluator

MAX_PICKLE_BYTES = 1 << 20


def describe_evaluator(evaluator: Evaluator) -> dict[str, Any]:
    """JSON-ready description from which ``rebuild_evaluator`` makes an equal evaluator."""
    cls = type(evaluator)
    spec: dict[str, Any] = {"class": f"{cls.__module__}:{cls.__qualname__}"}
    if callable(getattr(evaluator, "to_config", None)) and hasattr(cls, "from_config"):
        spec["config"] = evaluator.to_config()  # type: ignore[attr-defined]
        return spec
    try:  # the constructor arguments, read back from attributes (plain JSON values only)
        fields = {name: getattr(evaluator, name) for name in init_parameters(cls)}
        json.dumps(fields, allow_nan=False)
        spec["fields"] = fields
        return spec
    except (AttributeError, TypeError, ValueError):
        pass
    try:
        blob = pickle.dumps(evaluator)
    except Exception:  # noqa: BLE001 - unpicklable: the description stays class-only
        blob = b""
    if 0 < len(blob) <= MAX_PICKLE_BYTES:
        spec["pickle"] = base64.b64encode(blob).decode("ascii")
    return spec


def rebuild_evaluator(spec: dict[str, Any]) -> Evaluator:
    """The evaluator a ``describe_evaluator`` description stands for."""
    if "pickle" in spec:
        return pickle.loads(base64.b64decode(spec["pickle"]))
    cls = _import_class(spec["class"])
    if "config" in spec:
        return cls.from_config(spec["config"])
    if "fields" in spec:
        return cls(**spec["fields"])
    raise StorageError(
        f"the stored evaluator {spec['class']} has no rebuildable configuration; "
        "pass the evaluator to optimize() again")


def _import_class(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise StorageError(f"cannot import the stored evaluator class {path}: {exc}") from None
    return target
