"""The shape of the package: no module only tests use, and every part under the layer contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ENTRYPOINT = "minigroups.__main__"
ROOT = Path(__file__).parents[2]


def test_every_module_is_reachable_from_the_command() -> None:
    graph = grimp.build_graph("minigroups")
    reachable = graph.find_upstream_modules(ENTRYPOINT) | {ENTRYPOINT}
    packages = {module for module in graph.modules if graph.find_children(module)}
    unreachable = sorted(graph.modules - reachable - packages)
    assert unreachable == [], f"modules no command imports (test scaffolding?): {unreachable}"


def test_the_layer_contract_names_every_top_level_module() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    [layers] = [contract["layers"] for contract in contracts if contract["type"] == "layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    graph = grimp.build_graph("minigroups")
    top_level = {module for module in graph.modules if module.count(".") == 1}
    assert top_level - named == set()
