"""Reproducers of the hostile-input review (issue 10, items 5 and 8), each through the real command line.

Each once raised a traceback, was read as something it is not, or analyzed nothing and passed. The contract
for all of them: exit 2, a message at the offending value (file:line:column when it is in a file) that says
what is wrong and how to fix it, and no traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from netmodel.cli.main import main
from tests.checkkit import CLUSTER, NODES

NODE = NODES.split("---")[0]
LAYOUT = "topologies/flannel-vxlan.yaml"
HUGE = "9" * 5000


def _pod_port(value: str) -> str:
    return NODE + f"""---
apiVersion: v1
kind: Pod
metadata: {{name: a}}
spec: {{containers: [{{name: c, ports: [{{containerPort: {value}}}]}}]}}
"""


def _firewall_ports(value: str) -> str:
    return NODE + f"""---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {{name: f}}
spec: {{nodes: [cp-1], ingress: {{rules: [{{action: allow, protocol: TCP, ports: {value}}}]}}}}
"""


def _cluster(spec: str) -> str:
    return f"""apiVersion: netmodel.io/v1alpha1
kind: Cluster
metadata: {{name: c}}
spec: {spec}
---
""" + NODE


# case → (document, the text the error must point at, words the message must hold)
CASES = {
    "!!bool maybe": (NODE + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
                     "spec: {hostNetwork: !!bool maybe, containers: [{name: c}]}\n", "!!bool maybe",
                     "'maybe' is not a valid !!bool"),
    "ports: [null]": (_firewall_ports("[null]"), "null]", "null is not a port"),
    "ports: [1.5]": (_firewall_ports("[1.5]"), "1.5]", "1.5 (float) is not a port"),
    "nodePortRange: 1.5": (_cluster("{nodePortRange: 1.5}"), "1.5}", "1.5 (float) is not a port"),
    "containerPort '²'": (_pod_port("'²'"), "'²'", "must be an integer, not a string ('²')"),
    "containerPort '①'": (_pod_port("'①'"), "'①'", "must be an integer"),
    "containerPort '--1'": (_pod_port("'--1'"), "'--1'", "must be an integer"),
    "containerPort '٣' (Arabic-Indic three)": (_pod_port("'٣'"), "'٣'", "must be an integer"),
    "containerPort quoted 5,000 digits": (_pod_port(f"'{HUGE}'"), f"'{HUGE}'", "must be an integer"),
    "containerPort 5,000 digits": (_pod_port(HUGE), HUGE, "a number too long to read"),
    "containerPort 5,000 hex digits": (_pod_port("0x" + "f" * 5000), "0x", "a number too long to read"),
    "containerPort sexagesimal beyond 64 bits": (_pod_port("1" + ":00" * 20), "1:00", "a number beyond 64 bits"),
    "containerPort sexagesimal": (_pod_port("1:00:00:00"), "1:00", "216000 is outside 1-65535"),  # YAML 1.1
    "controlPlane.endpoint '10.0.0.10:²'": (_cluster("{controlPlane: {endpoint: '10.0.0.10:²'}}"),
                                           "'10.0.0.10:²'", "has no valid port"),
    "etcd endpoint '10.0.0.50:²'": (
        _cluster("{controlPlane: {etcd: {external: true, endpoints: ['10.0.0.50:²']}}}"), "'10.0.0.50:²'",
        "has no valid port"),
    "etcd endpoint with 5,000 digits": (
        _cluster(f"{{controlPlane: {{etcd: {{external: true, endpoints: ['10.0.0.50:{HUGE}']}}}}}}"),
        "'10.0.0.50:", "has no valid port"),
}


def _located(text: str, marker: str) -> tuple[int, int]:
    before = text[: text.index(marker)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


@pytest.mark.parametrize("case", list(CASES))
def test_bad_value_is_located_with_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str) -> None:
    text, marker, words = CASES[case]
    path = tmp_path / "input.yaml"
    path.write_text(text)
    code, err = _run(capsys, "check", str(path))
    line, column = _located(text, marker)
    assert code == 2, err
    assert f"{path}:{line}:{column}: error:" in err, err
    assert words in err and "fix:" in err
    assert len(err) < 2000, "a message quotes a long value in full"


@pytest.mark.parametrize("port,words", [
    (HUGE, "is outside 1-65535"),
    ("-1", "port -1 is outside 1-65535"),
    ("80.0", "neither a port number nor a port name"),
    ("²", "neither a port number nor a port name"),
    ("1e3", "no Pod or Service in the input has a port named '1e3'"),
    ("0x50", "no Pod or Service in the input has a port named '0x50'"),
    ("nan", "no Pod or Service in the input has a port named 'nan'"),
])
def test_query_port_that_is_no_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], port: str,
                                                     words: str) -> None:
    code, err = _run(capsys, "query", LAYOUT, "--from", "node:cp-1", "--to", "node:w-1", "--port", port)
    assert code == 2, err
    assert words in err and "fix:" in err
    assert len(err) < 2000


def test_query_port_name_the_input_declares_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "query", LAYOUT, "--from", "node:cp-1", "--to", "node:w-1", "--port", "http")
    assert code in (0, 1), err


def test_baseline_nested_200000_deep(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    baseline = tmp_path / "deep.json"
    baseline.write_text("[" * 200_000 + "]" * 200_000)
    code, err = _run(capsys, "check", LAYOUT, "--baseline", str(baseline))
    assert code == 2 and f"{baseline}:1:1: error:" in err and "nested too deeply" in err


def test_matrix_with_a_node_that_has_no_address(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Flannel VXLAN with firewalls: the tunnel's outer packet needs each node's address.
    nodes = NODES.replace("status: {addresses: [{type: InternalIP, address: 10.0.0.22}]}", "status: {addresses: []}")
    assert nodes != NODES
    pods = "".join(f"""---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec: {{nodeName: {node}, containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}
status: {{podIP: {ip}}}
""" for name, node, ip in (("a", "w-1", "10.244.1.5"), ("b", "w-2", "10.244.2.5")))
    firewall = """---
apiVersion: netmodel.io/v1alpha1
kind: Firewall
metadata: {name: all}
spec: {nodeSelector: {}, ingress: {defaultAction: allow}}
"""
    path = tmp_path / "layout.yaml"
    path.write_text(f"{CLUSTER}---\n{nodes}{pods}{firewall}")
    code, err = _run(capsys, "matrix", str(path), "--format", "csv")
    assert code == 0, err
    # The same verdict as `query` for the pair across the address-less node.
    code_query, _ = _run(capsys, "query", str(path), "--from", "default/a", "--to", "default/b", "--port", "80")
    assert code_query == 0


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"---\n", b"---\n---\n...\n", b"   \n# only a comment\n"],
                         ids=["empty", "BOM only", "one ---", "only markers", "comment"])
def test_input_without_objects_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           content: bytes) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(content)
    code, err = _run(capsys, "check", str(path))
    assert code == 2 and f"{path}:1:1: error: no objects in input" in err


def test_empty_standard_input_is_an_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "netmodel", "check", "-"], input="", capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2 and "<stdin>:1:1: error: no objects in input" in proc.stderr


def test_devices_and_sockets_say_what_they_are(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(capsys, "check", "/dev/zero")
    assert code == 2 and "'/dev/zero' is a character device, not a regular file" in err
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        code, err = _run(capsys, "check", str(sock_path))
    assert code == 2 and "is a socket, not a regular file" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_read_like_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # `netmodel check <(kubectl get ... -o yaml)` hands over a pipe: it is read, not refused.
    proc = subprocess.Popen([sys.executable, "-m", "netmodel", "check", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    with fifo.open("w") as writer:
        writer.write(Path(LAYOUT).read_text())
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err


# -- resource bombs (item 6) -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,field,value", [
    ("Deployment", "replicas", 1_000_000_000),
    ("StatefulSet", "replicas", 2_147_483_647),
    ("Job", "parallelism", 100_000_000),
])
def test_workload_expanding_past_the_pod_limit_is_refused_at_the_field(tmp_path: Path, kind: str, field: str,
                                                                       value: int) -> None:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    text = NODE + f"""---
apiVersion: {api}
kind: {kind}
metadata: {{name: w}}
spec:
  {field}: {value}
  selector: {{matchLabels: {{app: w}}}}
  template: {{metadata: {{labels: {{app: w}}}}, spec: {{containers: [{{name: c}}]}}}}
"""
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    # A subprocess with a timeout: before the limit this ran until killed, growing memory.
    proc = subprocess.run([sys.executable, "-m", "netmodel", "check", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)
    line, column = _located(text, str(value))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{path}:{line}:{column}: error:" in proc.stderr and "more than 1,000,000 Pods" in proc.stderr


def test_pods_of_many_workloads_count_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    workloads = "".join(f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: w{i}}}
spec:
  replicas: 400000
  selector: {{matchLabels: {{app: w}}}}
  template: {{metadata: {{labels: {{app: w}}}}, spec: {{containers: [{{name: c}}]}}}}
""" for i in range(3))
    path = tmp_path / "many.yaml"
    path.write_text(NODE + workloads)
    code, err = _run(capsys, "check", str(path))
    assert code == 2 and "Deployment default/w2: the input would expand to more than" in err


def test_a_rule_listing_32768_single_ports_reads_in_linear_time(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    from netmodel.load import parse_text
    from netmodel.model.build import build_topology

    ports = ", ".join(f'"{p}"' for p in range(1, 65536, 2))
    topology = build_topology(parse_text(_firewall_ports(f"[{ports}]"), "ports.yaml"))
    rule = topology.firewalls[0].ingress.rules[0]
    assert len(rule.ports.ranges) == 32768 and rule.ports.ranges[-1] == (65535, 65535)


# -- input size (item 7, in part) --------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_parsing(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from netmodel.load import files

    monkeypatch.setattr(files, "MAX_INPUT_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text(NODE + "# padding\n" * 200)
    code, err = _run(capsys, "check", str(path))
    assert code == 2 and f"{path}:1:1: error: {path} is larger than 0 MiB" in err


def test_running_out_of_memory_while_parsing_is_a_located_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from netmodel.load import files

    def exhausted(text: str, file: str) -> list[object]:
        raise MemoryError

    monkeypatch.setattr(files, "parse_text", exhausted)
    path = tmp_path / "layout.json"
    path.write_text("{}")
    code, err = _run(capsys, "check", str(path))
    assert code == 2 and f"{path}:1:1: error: not enough memory to read {path}" in err
