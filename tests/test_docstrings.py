"""Every public function, class and method of netmodel/ says what it is (a newcomer reads the docstring first).

Public: a module-level ``def`` or ``class`` whose name does not start with ``_``, and a method of such a class
whose name does not start with ``_`` (dunder methods say what they are by their name), in a module whose path has
no part starting with ``_`` (``__init__.py`` and ``__main__.py`` count as public).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "netmodel"


def _public_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if not any(part.startswith("_") and part not in ("__init__.py", "__main__.py")
                       for part in p.relative_to(PACKAGE).parts)]


def _public(body: list[ast.stmt]) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    return [node for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not node.name.startswith("_")]


def _undocumented(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root)
    out = []
    for node in _public(tree.body):
        if ast.get_docstring(node) is None:
            out.append(f"{where}:{node.lineno}: {node.name}")
        if isinstance(node, ast.ClassDef):
            out += [f"{where}:{method.lineno}: {node.name}.{method.name}" for method in _public(node.body)
                    if not isinstance(method, ast.ClassDef) and ast.get_docstring(method) is None]
    return out


def test_every_public_function_and_class_has_a_docstring() -> None:
    missing = [entry for path in _public_modules() for entry in _undocumented(path)]
    assert not missing, "public functions/classes without a docstring:\n" + "\n".join(missing)


def test_the_walk_sees_the_package() -> None:
    # Guards against the test above passing because it looked at nothing.
    modules = _public_modules()
    assert len(modules) > 50
    assert any(path.name == "objects.py" for path in modules)


def test_an_undocumented_function_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "netmodel" / "example.py"
    module.parent.mkdir()
    module.write_text('def public():\n    return 1\n\n\ndef _private():\n    return 2\n\n\n'
                      'class Documented:\n    """Says what it is."""\n\n'
                      '    def method(self):\n        return 3\n\n'
                      '    def _helper(self):\n        return 4\n', encoding="utf-8")
    assert _undocumented(module, tmp_path) == ["netmodel/example.py:1: public",
                                               "netmodel/example.py:12: Documented.method"]
