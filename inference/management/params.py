"""`--param NAME=VALUE` options of the learning commands: VALUE is JSON, or else a plain string."""

import json
from typing import Any


def params_parse(items: list[str]) -> dict[str, Any]:
    """The parameters named by the options: ``["coreset_ratio=0.05", "preprocess_mode=tile"]`` gives
    ``{"coreset_ratio": 0.05, "preprocess_mode": "tile"}``."""
    params: dict[str, Any] = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params
