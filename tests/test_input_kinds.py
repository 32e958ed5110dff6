"""Real inputs as they come (issue 9): which objects netmodel reads, how, and what it says about the rest.

Each test runs the CLI the way a user does, on small layouts under tests/kinds/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

KINDS = Path(__file__).parent / "kinds"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def findings(capsys: pytest.CaptureFixture[str], *paths: str) -> tuple[int, list[dict]]:
    code, out, err = run(capsys, "check", *paths, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)["findings"]


def at(path: Path, marker: str) -> tuple[int, int]:
    """(line, column) of the last occurrence of ``marker`` in the file (1-based; headers may quote it)."""
    text = path.read_text(encoding="utf-8")
    offset = text.rindex(marker)
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


# -- ipBlock CIDRs with host bits set ------------------------------------------------------------------------------

def test_ipblock_host_bits_are_accepted_with_a_warning_at_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    layout = KINDS / "host-bits.yaml"
    code, found = findings(capsys, str(layout))
    assert code == 0
    warned = sorted((f["sources"][0]["line"], f["sources"][0]["column"], f["severity"], f["objects"][0])
                    for f in found if f["id"] == "NM-INPUT-009")
    assert warned == [(*at(layout, "192.168.1.1/24"), "warning", "NetworkPolicy/shop/from-office"),
                      (*at(layout, "192.168.1.7/30"), "warning", "NetworkPolicy/shop/from-office")]
    messages = " ".join(f["message"] for f in found if f["id"] == "NM-INPUT-009")
    assert "192.168.1.0/24" in messages and "192.168.1.4/30" in messages


@pytest.mark.parametrize(("source", "allowed"), [("192.168.1.20", True),   # inside the network
                                                 ("192.168.1.5", False),   # inside the except's network
                                                 ("192.168.2.5", False)])  # outside
def test_ipblock_host_bits_use_the_network(capsys: pytest.CaptureFixture[str], source: str, allowed: bool) -> None:
    code, out, err = run(capsys, "query", str(KINDS / "host-bits.yaml"), "--from", f"ip:{source}",
                         "--to", "shop/web", "--port", "8080", "--format", "json")
    assert json.loads(out)["allowed"] is allowed, err
    assert code == (0 if allowed else 1)


def test_a_cidr_that_is_not_one_still_fails_the_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((KINDS / "host-bits.yaml").read_text(encoding="utf-8").replace("192.168.1.7/30", "192.168.1.7/33"),
                   encoding="utf-8")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "192.168.1.7/33" in err and "invalid CIDR" in err


def test_host_bits_stay_an_error_where_kubernetes_rejects_them(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    # Node podCIDRs are validated strictly (the node IPAM controller writes canonical ranges).
    bad = tmp_path / "node.yaml"
    bad.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {podCIDR: 10.244.1.1/24}\n",
                   encoding="utf-8")
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and "host bits" in err


# -- raw API lists ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "allowed"), [("web/client", True), ("shop/other", False)])
def test_raw_api_list_items_take_kind_and_api_version_from_the_list(capsys: pytest.CaptureFixture[str],
                                                                    source: str, allowed: bool) -> None:
    # NamespaceList (labels), PodList, NetworkPolicyList items carry neither kind nor apiVersion, as the API
    # returns them; the ServiceList item carries its own.
    code, out, err = run(capsys, "query", str(KINDS / "raw-lists.json"), "--from", source,
                         "--to", "service:shop/api", "--port", "80", "--format", "json")
    answer = json.loads(out)
    assert (answer["allowed"], answer["disposition"]) == \
        (allowed, "delivered" if allowed else "denied-by-policy"), err
    assert code == (0 if allowed else 1)


def test_typed_list_items_keep_their_own_kind(tmp_path: Path) -> None:
    from netmodel.load import read_documents

    dump = tmp_path / "d.yaml"
    dump.write_text("apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n"
                    "- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n"
                    "- {kind: Pod, metadata: {name: c}}\n"
                    "- {apiVersion: example.com/v1, kind: Thing, metadata: {name: d}}\n"
                    "- {kind: Thing, metadata: {name: e}}\n", encoding="utf-8")
    docs = read_documents([str(dump)])
    assert [(d.data.get("apiVersion"), d.data.get("kind")) for d in docs] == [
        ("v1", "Pod"), ("v1", "Pod"), ("v1", "Pod"), ("example.com/v1", "Thing"), (None, "Thing")]
    assert docs[0].span(("metadata", "name")).line == 4


def test_items_of_a_plain_list_must_name_their_kind(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dump = tmp_path / "d.yaml"
    dump.write_text("apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n", encoding="utf-8")
    code, _, err = run(capsys, "check", str(dump))
    assert code == 2 and f"{dump}:4:3" in err and "no `kind`" in err
