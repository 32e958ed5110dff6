"""JSON output: the payload as it is, pretty-printed with stable key order.

The payload of ``netmodel check`` is :meth:`CheckResult.to_json` (schema: netmodel/schemas/check.schema.json).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netmodel.report.json_text import dumps_indented


def render_json(payload: Mapping[str, Any], kind: str = "check") -> str:
    """The payload as indented JSON, ending in a newline."""
    return dumps_indented(payload, ensure_ascii=False) + "\n"
