"""JSON that parses anywhere: NaN and infinities, which JSON lacks, written as null."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_json(value: Any) -> Any:
    """`value` with every NaN or infinite float (in dicts, lists and tuples) made None: JSON has
    no NaN, and a `--json` line must parse anywhere (JSON null means "not measured")."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def json_line(value: Any) -> str:
    """`value` as one line of strict JSON, non-finite floats as null (`finite_json`)."""
    return json.dumps(finite_json(value), allow_nan=False)
