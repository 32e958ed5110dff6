"""The JSON reader's locations cost memory bounded by a fraction of the text (issue 10, item 7).

Locations in JSON are found when they are read (netmodel/load/json_reader.py). Before, each ``items`` entry was
tokenized whole the first time a location in it was read and every position kept: about 28 times the text once
all were read, so a large one-line JSON died of MemoryError where the same content as YAML passed. This test
reads every location (value and key) of every value of a generated one-line ``kind: List`` in a child process
whose address space is capped, after parsing, at what it uses plus a quarter of the text's size and 8 MiB of
slack for the allocator. Measured on this input (1,500 Pods, 0.4 MB): the address space grows by 3 MiB now,
by 15 MiB with the former index (which this test fails).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

READ_EVERY_LOCATION = """
import resource, sys
from netmodel.load import read_documents

path, budget = sys.argv[1], int(sys.argv[2])
docs = read_documents([path])

def paths(value, prefix=()):
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from paths(child, prefix + (key,))

def address_space():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()

resource.setrlimit(resource.RLIMIT_AS, (address_space() + budget, resource.RLIM_INFINITY))
read = 0
for doc in docs:
    for path in paths(doc.data):
        span = doc.span(path)
        assert span.line == 1 and span.column > 0
        if path:
            assert doc.key_span(path).column > 0
        read += 1
print(read, len(docs))
"""


def _pods(count: int) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": f"web-{i}", "namespace": f"ns-{i % 50}", "labels": {"app": f"web-{i % 300}"}},
         "spec": {"nodeName": f"node-{i % 500}", "containers": [
             {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080, "name": "http"}]}]},
         "status": {"phase": "Running", "podIP": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}}
        for i in range(count)]}


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the address space from /proc")
def test_reading_every_json_location_stays_within_a_quarter_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "pods.json"
    text = json.dumps(_pods(1_500), separators=(",", ":"))  # one line, as `kubectl get -o json | jq -c` gives
    path.write_text(text)
    budget = len(text) // 4 + (8 << 20)
    result = subprocess.run([sys.executable, "-c", READ_EVERY_LOCATION, str(path), str(budget)],
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    read, documents = map(int, result.stdout.split())
    assert documents == 1_500 and read == 1_500 * 21
