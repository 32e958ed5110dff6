"""``netmodel query`` through the CLI: JSON contract, exit codes, usage errors, the readable table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netmodel.cli.main import main

LAYOUT = str(Path(__file__).parent / "reach" / "blocked.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["query", LAYOUT, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_denied_flow_json_lists_every_blocker_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--from", "web/client", "--to", "service:shop/api", "--port", "80", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["allowed"] is False and data["disposition"] == "denied-by-firewall"
    assert {(b["kind"], b["name"]) for b in data["blockedBy"]} == {("Firewall", "workers"),
                                                                   ("NetworkPolicy", "shop/api-from-shop")}
    assert all(b["source"]["file"] == LAYOUT and b["source"]["line"] > 0 for b in data["blockedBy"])
    hops = data["paths"][0]["hops"]
    assert hops[0]["location"] == "pod:web/client" and hops[-1]["location"] == "pod:shop/api-0"


def test_allowed_flow_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--from", "node:w-2", "--to", "shop/api-0", "--port", "8080", "-o", "json")
    assert code == 0 and json.loads(out)["disposition"] == "delivered"


def test_table_shows_steps_and_blockers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--from", "network:office", "--to", "node:w-1", "--port", "30080")
    assert code == 1
    for text in ("DENIED", "firewall-ingress", "snat", "dnat", "blocked by", "deny-vxlan", "api-from-shop"):
        assert text in out


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "web/clinet", "--to", "node:w-1", "--port", "80"), "web/client"),
    (("--from", "web/client", "--to", "node:w-1", "--port", "99999"), "outside 1-65535"),
    (("--from", "web/client", "--to", "node:w-1", "--port", "80", "--protocol", "ICMP"), "use TCP, UDP or SCTP"),
    (("--from", "bogus:x", "--to", "node:w-1", "--port", "80"), "unknown reference kind"),
    (("--from", "web/client", "--to", "node:w-1", "--port", "80", "-f", "xml"), "unknown format"),
])
def test_usage_errors_exit_2_with_a_hint(capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                         message: str) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_partial_for_a_network_some_of_whose_addresses_are_allowed(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    layout = tmp_path / "l.yaml"
    layout.write_text(Path(LAYOUT).read_text() + """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: half-the-office, namespace: web}
spec:
  podSelector: {}
  egress: [{to: [{ipBlock: {cidr: 198.51.100.0/25}}]}]
""")
    code = main(["query", str(layout), "--from", "web/client", "--to", "network:office", "--port", "443",
                 "-o", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["disposition"] == "partial" and data["allowed"] is False
    verdicts = {p["destination"]: p["disposition"] for p in data["paths"]}
    assert verdicts == {"network:office (198.51.100.1)": "delivered",
                        "network:office (198.51.100.129)": "denied-by-policy"}
