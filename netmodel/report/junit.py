"""JUnit XML for CI systems: each finding and each expectation is a test case; errors fail.

Layout (what Jenkins, GitLab, Azure and the common JUnit readers understand): one ``<testsuite>`` per requirement
family, plus ``expectations`` and the kind of payload's own suites. A finding at or above the failing severity is
a ``<failure>``; below it, a passing case whose message is in ``<system-out>``; a suppressed finding is
``<skipped>`` with its reason. Each requirement also gets a case of its own, so a clean run still shows what was
checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from netmodel.report.sections import Payload, location

RANK = {"error": 3, "warning": 2, "info": 1}


@dataclass(slots=True)
class Case:
    """One JUnit test case: passed unless ``failure`` or ``skipped`` says otherwise."""

    name: str
    classname: str
    failure: str = ""  # message; "" = passed
    skipped: str = ""
    output: str = ""


@dataclass(slots=True)
class Suite:
    """One JUnit test suite and its cases."""

    name: str
    cases: list[Case] = field(default_factory=list)


def _finding_case(f: Mapping[str, Any], fail_on: str, suite: str) -> Case:
    objects = ", ".join(f.get("objects", ()))
    where = location(f.get("sources"))
    text = f"{f['severity']}: {f['message']}" + (f"\nat {where}" if where else "")
    case = Case(f"{f['id']} {objects}".strip(), f"netmodel.{suite}")
    if RANK.get(f["severity"], 0) >= RANK[fail_on]:
        case.failure = text
    else:
        case.output = text
    return case


def check_suites(payload: Payload, fail_on: str = "error") -> list[Suite]:
    """A suite per requirement, a case per finding (failing at ``fail_on`` or worse)."""
    suites: dict[str, Suite] = {}
    for req in payload["requirements"]:
        suite = suites.setdefault(req["id"], Suite(req["id"]))
        case = Case(f"requirement {req['id']}", f"netmodel.{req['id']}")
        if req["status"] == "fail" or (req["status"] == "warn" and fail_on != "error"):
            case.failure = f"{req['id']}: {req['status']} ({req['findings']} finding(s))"
        suite.cases.append(case)
    for f in payload["findings"]:
        suite_name = f.get("requirement") or "input"
        suites.setdefault(suite_name, Suite(suite_name)).cases.append(_finding_case(f, fail_on, suite_name))
    for f in payload.get("suppressed", ()):
        suite_name = f.get("requirement") or "input"
        case = Case(f"{f['id']} {', '.join(f.get('objects', ()))}".strip(), f"netmodel.{suite_name}",
                    skipped=f"suppressed by {f['suppression']['by']}: {f['suppression']['reason']}")
        suites.setdefault(suite_name, Suite(suite_name)).cases.append(case)
    if "expectations" in payload:
        suite = suites.setdefault("expectations", Suite("expectations"))
        for e in payload["expectations"]:
            name = f"{e['from']} -> {e['to']} {e['protocol']}/{e['port']} expected " + (
                "allowed" if e["expected"] else "denied")
            case = Case(name, "netmodel.expectations")
            if not e.get("ok"):
                case.failure = (f"expected {'allowed' if e['expected'] else 'denied'}, got {e.get('actual')}"
                                f" ({e.get('disposition', '')}) at {location(e.get('source'))}")
            suite.cases.append(case)
    return list(suites.values())


def diff_suites(payload: Payload, fail_on: str = "error") -> list[Suite]:
    """Suites for a diff: findings introduced (failing at ``fail_on``), findings fixed, cells and flows
    changed."""
    introduced = Suite("findings introduced",
                       [_finding_case(f, fail_on, "diff") for f in payload["findings"]["introduced"]])
    fixed = Suite("findings fixed", [Case(f"{f['id']} {', '.join(f.get('objects', ()))}".strip(), "netmodel.diff",
                                          output=f"fixed: {f['message']}") for f in payload["findings"]["fixed"]])
    cells = Suite("port matrix")
    for c in payload["portMatrix"]:
        case = Case(f"{c['node']} {c['protocol']}/{c['ports']} from {c['source']}", "netmodel.diff.ports",
                    output=f"{c['before']} -> {c['after']}")
        if c["after"] == "exposed" or (c["after"] == "blocked" and c["before"] != "blocked"):
            case.failure = f"{c['purpose']} {c['protocol']} {c['ports']} on {c['node']}: {c['before']} -> " \
                           f"{c['after']}"
        cells.cases.append(case)
    if not cells.cases:
        cells.cases.append(Case("no port-matrix cell changed", "netmodel.diff.ports"))
    suites = [introduced, fixed, cells]
    flows = payload.get("flows")
    if flows is not None:
        opened = Suite("flows opened")
        for f in flows["opened"]:
            case = Case(_flow_name(f), "netmodel.diff.flows", output=f"ports {f.get('before') or '-'} -> "
                                                                     f"{f.get('after') or '-'}")
            if f.get("exposure"):
                case.output += "; reached through a new exposure, failed in the port matrix suite"
            elif f.get("accepted"):
                case.skipped = f"opened, accepted by {f['accepted']['reason']}"
            else:
                case.failure = f"flow opened: {_flow_name(f)} (denied before; accept it with an Expectations " \
                               "flow or --allow-opened)"
            opened.cases.append(case)
        if not opened.cases:
            opened.cases.append(Case("no flow opened", "netmodel.diff.flows"))
        closed = Suite("flows closed", [Case(_flow_name(f), "netmodel.diff.flows",
                                             output=f"closed: ports {f.get('before') or '-'} -> "
                                                    f"{f.get('after') or '-'}") for f in flows["closed"]])
        suites += [opened, closed]
    return suites


def _flow_name(f: Payload) -> str:
    via = f" via {f['via']}" if f.get("via") else ""
    return f"{f['from']} -> {f['to']} {f['protocol']}/{f['ports']}{via}"


def generic_suites(payload: Payload, kind: str) -> list[Suite]:
    """A query or matrix is an answer, not an assertion: one passing case that carries it."""
    from netmodel.report.markdown import render_markdown

    return [Suite(kind, [Case(kind, f"netmodel.{kind}", output=render_markdown(payload, kind))])]


def render_junit(payload: Payload, kind: str = "check", fail_on: str = "error", **_options: Any) -> str:
    """The payload as JUnit XML (check and diff fail cases; other kinds are one passing case)."""
    if kind == "check":
        suites = check_suites(payload, fail_on)
    elif kind == "diff":
        suites = diff_suites(payload, fail_on)
    else:
        suites = generic_suites(payload, kind)
    return to_xml(suites, f"netmodel {kind}")


def to_xml(suites: Sequence[Suite], name: str) -> str:
    """The suites as a JUnit ``testsuites`` document with totals."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in suites:
        failures = sum(1 for c in suite.cases if c.failure)
        skipped = sum(1 for c in suite.cases if c.skipped)
        el = ET.SubElement(root, "testsuite", name=suite.name, tests=str(len(suite.cases)),
                           failures=str(failures), errors="0", skipped=str(skipped))
        totals["tests"] += len(suite.cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
        for c in suite.cases:
            case = ET.SubElement(el, "testcase", name=c.name, classname=c.classname)
            if c.failure:
                ET.SubElement(case, "failure", message=c.failure.splitlines()[0], type="netmodel").text = c.failure
            if c.skipped:
                ET.SubElement(case, "skipped", message=c.skipped)
            if c.output:
                ET.SubElement(case, "system-out").text = c.output
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["render_junit"]
