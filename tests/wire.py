"""The Python half of node-fixtures/lib/wire.js: values JSON cannot hold, both ways.

``{"$number": "NaN"}`` is a JS number, ``{"$date": ms}`` a JS Date (an aware UTC datetime
here), ``{"$buffer": base64}`` a Node Buffer (bytes here).
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if "$number" in value:
            return float(value["$number"].replace("Infinity", "inf"))
        if "$date" in value:
            return EPOCH + timedelta(milliseconds=value["$date"])
        if "$buffer" in value:
            return base64.b64decode(value["$buffer"])
        if "$undefined" in value:
            return UNDEFINED
        return {key: decode(item) for key, item in value.items()}
    return value


class _Undefined:
    """JS ``undefined``: an option passed as absent (None in the Python API, which JSON
    would send as ``null``)."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()


def encode(value: Any) -> Any:
    if value is UNDEFINED:
        return {"$undefined": True}
    if isinstance(value, float) and not math.isfinite(value):
        return {
            "$number": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        }
    if isinstance(value, float) and value == 0 and math.copysign(1, value) < 0:
        return {"$number": "-0"}
    if isinstance(value, datetime):
        return {"$date": (value - EPOCH) // timedelta(milliseconds=1)}
    if isinstance(value, (bytes, bytearray)):
        return {"$buffer": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value
