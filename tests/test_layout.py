"""The size limits of the code style, checked on the product's source.

No module over 500 lines and no function over 60 (STYLE.md, 9). A function is measured
from its first decorator to its last line; a nested function or a method counts in its
own right and also inside the span of the function or class around it, so a long
function cannot hide its length in a closure. Migrations are generated and exempt.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("capdb", "auth", "incidents", "maps", "notifications", "demo")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

SOURCES = sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def name_of(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def long_functions(path: Path) -> list[str]:
    """Every function of the module longer than the limit, as ``name (lines)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            length = node.end_lineno - first + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{node.name} ({length} lines, line {node.lineno})")
    return found


def test_the_product_packages_are_found() -> None:
    # A wrong root would pass every check below with nothing to check.
    assert len(SOURCES) > 50
    assert {path.relative_to(ROOT).parts[0] for path in SOURCES} == set(PACKAGES)


@pytest.mark.parametrize("path", SOURCES, ids=name_of)
def test_no_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name_of(path)} has {lines} lines"


@pytest.mark.parametrize("path", SOURCES, ids=name_of)
def test_no_function_over_60_lines(path: Path) -> None:
    assert long_functions(path) == [], name_of(path)


def contract(name: str) -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (found,) = (c for c in contracts if c["name"] == name)
    return found  # type: ignore[no-any-return]


def modules_named(*endings: str) -> set[str]:
    names = {".".join(path.relative_to(ROOT).with_suffix("").parts) for path in SOURCES}
    names = {name.removesuffix(".__init__") for name in names}
    return {name for name in names if name.rsplit(".", 1)[-1].endswith(endings)}


def test_the_contracts_name_every_page_module() -> None:
    """A feature's new page module is protected from the other features as soon as it exists."""
    pages = contract("A feature never imports another feature's pages")
    assert set(pages["forbidden_modules"]) == modules_named("views")


def test_the_contracts_name_every_api_module() -> None:
    resources = contract("A feature reaches another's API only through the shared incidents.api")
    assert set(resources["forbidden_modules"]) == modules_named("api") - {"incidents.api"}


def test_a_long_function_is_found(tmp_path: Path) -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    module = tmp_path / "long.py"
    module.write_text(
        f"@decorated\ndef short():\n    pass\n\n\nclass C:\n    def long(self):\n{body}\n"
    )
    assert long_functions(module) == ["long (61 lines, line 7)"]
