"""Fixtures the emulate test files share (helpers they import are in tests/emulate/lab.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netmodel.emulate.features import KernelFeatures, detect_features
from tests.emulate.lab import host_links, own_namespaces


@pytest.fixture
def clean_host() -> Iterator[None]:
    """No namespace of this process's own runs is left, and the host's links end as they began."""
    before, links = own_namespaces(), host_links()
    yield None
    assert own_namespaces() == before
    assert host_links() == links


@pytest.fixture(scope="module")
def features() -> KernelFeatures:
    """What this kernel can do (test_kernel.py overrides it to skip where namespaces with veths cannot be made)."""
    return detect_features()
