"""The examples in the docstrings of the set core, the loader and the model run as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import netmodel.load
import netmodel.model
import netmodel.sets

MODULES = sorted(
    info.name
    for package in (netmodel.sets, netmodel.load, netmodel.model)
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + ".")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"


def test_the_core_modules_have_examples() -> None:
    # Guards against the parametrized test above passing because nothing was collected.
    counted = sum(doctest.testmod(importlib.import_module(n)).attempted for n in MODULES)
    assert counted >= 10
