"""The committed reports/ match a fresh run of `sh reports/make.sh` (python -m netmodel.report.bundle --all)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

from netmodel.report.bundle import MANIFEST, bundled_layouts, write_bundle

ROOT = Path(__file__).resolve().parent.parent
LAYOUTS = bundled_layouts(ROOT)
TEXT = (".json", ".md", ".sarif", ".xml")
HINT = "reports/ is stale: run `sh reports/make.sh` and commit the result"


def test_every_layout_has_a_bundle():
    assert {target for _, target in LAYOUTS} == {
        f"reports/{p.name}" for p in (ROOT / "reports").iterdir() if p.is_dir()}, HINT


@pytest.mark.parametrize("source, target", LAYOUTS, ids=[t for _, t in LAYOUTS])
def test_committed_bundle_is_current(source, target, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the bundles hold paths relative to the repository root
    fresh = {p.name: p for p in write_bundle([source], str(tmp_path))}
    committed = ROOT / target
    assert sorted(fresh) == sorted(p.name for p in committed.iterdir()), HINT
    for name, path in fresh.items():
        if name.endswith(TEXT) and name != MANIFEST:
            assert path.read_text() == (committed / name).read_text(), f"{target}/{name}: {HINT}"
    recorded = json.loads((committed / MANIFEST).read_text())
    if recorded["matplotlib"] != matplotlib.__version__:
        pytest.skip(f"images made with matplotlib {recorded['matplotlib']}, this is {matplotlib.__version__}: "
                    "text files compared, image bytes not")
    for name, path in fresh.items():
        assert path.read_bytes() == (committed / name).read_bytes(), f"{target}/{name}: {HINT}"
