"""SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDEs): one rule per finding ID, results at the YAML line.

* ``rules``: every finding ID that occurs, with its title, help text and default severity (``error`` →
  ``error``, ``warning`` → ``warning``, ``info`` → ``note``) and a help URI into ``docs/checks.md``.
* ``results``: one per finding (suppressed ones too, carrying a SARIF ``suppressions`` entry — code scanning
  shows them as dismissed rather than losing them), located at each source ``file:line:column`` of the finding,
  relative to ``%SRCROOT%`` when the path is relative.
* ``partialFingerprints``: the baseline fingerprint (ID, objects, message without line numbers), so a result
  keeps its identity when lines move.
* a diff also gives one result per flow it opens, rule ``NM-DIFF-001`` (level ``error``; an accepted opening
  carries an accepted suppression with the reason), located where the destination is defined in NEW when the
  diff payload says (``flows.opened[].location``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from netmodel.analyze.suppress import fingerprint_of
from netmodel.report.catalog import RuleInfo
from netmodel.report.catalog import catalog as shipped_catalog
from netmodel.report.json_text import dumps_indented
from netmodel.report.sections import Payload

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
CATALOG_URI = "https://github.com/netmodel/netmodel/blob/main/docs/checks.md"


def artifact_uri(file: str) -> dict[str, str]:
    """The SARIF artifact location of a file: relative to %SRCROOT%, or a file URI when absolute."""
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute():
        return {"uri": "file://" + quote(str(path))}
    return {"uri": quote(str(path)), "uriBaseId": "%SRCROOT%"}


def _locations(sources: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in sources:
        if not s.get("line") or s.get("file", "").startswith("<"):
            continue  # stdin and defaults have no file a viewer could open
        region = {"startLine": s["line"]}
        if s.get("column"):
            region["startColumn"] = s["column"]
        out.append({"physicalLocation": {"artifactLocation": artifact_uri(s["file"]), "region": region}})
    return out


def _rule(finding_id: str, info: RuleInfo | None, example: Mapping[str, Any]) -> dict[str, Any]:
    title = info.title if info else f"{finding_id} ({example.get('requirement', '')})"
    help_text = info.help if info else f"See {finding_id} in the check catalog (docs/checks.md)."
    severity = info.severity if info else example["severity"]
    return {
        "id": finding_id,
        "name": "".join(w.capitalize() for w in finding_id.lower().split("-")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": help_text},
        "help": {"text": help_text, "markdown": f"**{finding_id}**: {help_text}"},
        "helpUri": f"{CATALOG_URI}#{finding_id.lower()}",
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": {"requirement": info.requirement if info else example.get("requirement", ""),
                       "tags": ["kubernetes", "network", example.get("requirement", "")]},
    }


def findings_of(payload: Payload, kind: str) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """(finding, suppression or None) pairs: a check's findings, or the findings a diff introduces."""
    if kind == "diff":
        return [(f, None) for f in payload["findings"]["introduced"]]
    if kind != "check":
        return []
    pairs: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = [(f, None) for f in payload["findings"]]
    pairs += [(f, f["suppression"]) for f in payload.get("suppressed", ())]
    return pairs


def render_sarif(payload: Payload, kind: str = "check", catalog: Mapping[str, RuleInfo] | None = None,
                 version: str = "", **_options: Any) -> str:
    """The payload's findings as a SARIF 2.1.0 log, with the rules of ``catalog``."""
    if catalog is None:
        catalog = shipped_catalog()
    pairs = findings_of(payload, kind)
    ids = sorted({f["id"] for f, _ in pairs})
    examples = {f["id"]: f for f, _ in reversed(pairs)}
    rules = [_rule(i, catalog.get(i), examples[i]) for i in ids]
    index = {i: n for n, i in enumerate(ids)}
    results = []
    for f, suppression in pairs:
        result: dict[str, Any] = {
            "ruleId": f["id"],
            "ruleIndex": index[f["id"]],
            "level": LEVEL.get(f["severity"], "warning"),
            "message": {"text": f["message"]},
            "locations": _locations(list(f.get("sources", ()))),
            "partialFingerprints": {"netmodelFinding/v1": fingerprint_of(f["id"], f.get("objects", ()),
                                                                         f["message"])},
            "properties": {"requirement": f.get("requirement", ""), "objects": list(f.get("objects", ()))},
        }
        if f.get("objects"):
            result["locations"] = result["locations"] or [{}]
            result["locations"][0]["logicalLocations"] = [
                {"fullyQualifiedName": o, "kind": "resource"} for o in f["objects"]]
        if suppression is not None:
            result["suppressions"] = [{
                "kind": "inSource" if suppression["by"] == "annotation" else "external",
                "status": "accepted",
                "justification": suppression["reason"],
            }]
        results.append(result)
    if kind == "diff" and payload.get("flows"):
        _opened_flows(payload["flows"]["opened"], rules, results, catalog)
    driver: dict[str, Any] = {"name": "netmodel", "informationUri": CATALOG_URI, "rules": rules}
    if version:
        driver["version"] = version
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {
                "text": "the directory netmodel was run from; input paths are relative to it"}}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return dumps_indented(log) + "\n"


OPENED_FLOW = "NM-DIFF-001"


def _opened_flows(opened: list[Mapping[str, Any]], rules: list[dict[str, Any]], results: list[dict[str, Any]],
                  catalog: Mapping[str, RuleInfo]) -> None:
    """One result per opened flow of a diff, under rule NM-DIFF-001."""
    opened = [f for f in opened if not f.get("exposure")]  # the exposure's own finding already says it
    if not opened:
        return
    example = {"severity": "error", "requirement": "diff"}
    rules.append(_rule(OPENED_FLOW, catalog.get(OPENED_FLOW), example))
    index = len(rules) - 1
    for f in opened:
        via = f" via {f['via']}" if f.get("via") else ""
        text = f"flow opened: {f['from']} → {f['to']} {f['protocol']} {f['ports']}{via} (denied before the change)"
        result: dict[str, Any] = {
            "ruleId": OPENED_FLOW, "ruleIndex": index, "level": "error", "message": {"text": text},
            "locations": _locations([f["location"]] if f.get("location") else []),
            "partialFingerprints": {"netmodelFinding/v1": fingerprint_of(OPENED_FLOW, (f["from"], f["to"]), text)},
            "properties": {"requirement": "diff", "objects": [f["from"], f["to"]]},
        }
        result["locations"] = result["locations"] or [{}]
        result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": o, "kind": "resource"}
                                                      for o in (f["from"], f["to"])]
        if f.get("accepted"):
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f["accepted"]["reason"]}]
        results.append(result)


__all__ = ["OPENED_FLOW", "render_sarif"]
