"""The package's shape: one-way layers, one list of option names.

- The import graph of ``corsware/`` (every ``import`` outside ``if TYPE_CHECKING:``, at any
  depth) has no cycle, and the request-time core imports neither the validator nor any
  adapter, integration or the command line.
- ``corsware._options.OPTION_NAMES`` is the one list of option names: ``CORSPolicy``'s
  signature, ``PolicyOptions``, the validator's keywords, ``describe()``, the ``CORSWARE_*``
  variables and the README's options table all match it.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from pathlib import Path

import pytest

import corsware
from corsware import CORSPolicy
from corsware._middleware import PolicyOptions
from corsware._mount import ENV_VARS
from corsware._options import OPTION_NAMES, VALIDATED_OPTIONS
from corsware._validate import validate

PACKAGE = Path(corsware.__file__).resolve().parent
ROOT = PACKAGE.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The corsware modules ``path`` imports (outside ``if TYPE_CHECKING:``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if node.module:  # "from . import _reasons" imports _reasons, not the package again
                found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    # Importing a.b.c runs a and a.b too; a package's __init__ importing its own modules is fine.
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): _imports(p, modules) for p in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt in graph[node] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert "corsware._decision" in graph
    assert graph["corsware.wsgi"] >= {"corsware._mount", "corsware._decision"}  # the reader sees imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_reader_finds_a_cycle() -> None:
    """Guards the test itself: a cycle in a made-up graph is found."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("core", ["corsware._decision", "corsware._compile", "corsware._settings"])
def test_the_core_imports_no_validator_adapter_or_integration(core: str) -> None:
    reached = _reachable(import_graph(), core)
    outside = {m for m in reached if m in ("corsware._validate", "corsware._policy", "corsware.wsgi", "corsware.asgi")
               or m.startswith(("corsware.django", "corsware.flask", "corsware.cli"))}  # fmt: skip
    assert not outside, f"{core} imports {sorted(outside)}"


def test_for_preflight_decided_takes_the_values_of_for_preflight() -> None:
    """The two preflight methods list the same request values on purpose (no object built
    per preflight); ``for_preflight_decided`` adds ``allowed`` after the origin."""
    from corsware._decision import Plan

    plain = inspect.signature(Plan.for_preflight).parameters
    decided = inspect.signature(Plan.for_preflight_decided).parameters
    assert list(decided)[:3] == ["self", "origin", "allowed"]
    same = [(n, p.kind, p.default, p.annotation) for n, p in decided.items() if n != "allowed"]
    assert same == [(n, p.kind, p.default, p.annotation) for n, p in plain.items()]


# -- one list of option names -------------------------------------------------------------


def test_corspolicy_signature_is_the_option_list() -> None:
    params = [p for p in inspect.signature(CORSPolicy.__init__).parameters if p != "self"]
    assert tuple(params) == OPTION_NAMES


def test_policy_options_typeddict_is_the_option_list() -> None:
    assert tuple(typing.get_type_hints(PolicyOptions)) == OPTION_NAMES


def test_validator_keywords_are_the_validated_options() -> None:
    assert tuple(inspect.signature(validate).parameters) == VALIDATED_OPTIONS


def test_describe_names_only_options() -> None:
    policy = CORSPolicy(
        allow_origins=["https://a.example.com"],
        allow_origin_callback=lambda origin: False,
        dangerously_allow_null_origin=True,
        dangerously_allow_insecure_origins=True,
        dangerously_allow_public_suffix_patterns=True,
        paths={"/x": {"allow_origins": ["https://b.example.com"]}},
    )
    described = policy.describe()
    assert set(described) <= set(OPTION_NAMES)
    # Everything but the cache size (a resource bound, not a rule) is described.
    assert set(OPTION_NAMES) - set(described) == {"preflight_cache_size"}


def test_every_option_has_its_corsware_variable() -> None:
    assert {f"CORSWARE_{name.upper()}" for name in OPTION_NAMES} <= set(ENV_VARS)


def test_the_readme_options_table_is_the_option_list() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` \| `[^`]*` \|", readme, flags=re.MULTILINE)
    assert tuple(rows) == OPTION_NAMES


def test_the_validators_draft_has_the_fields_of_settings() -> None:
    """``_validate._Draft`` repeats ``Settings``' fields on purpose (mutable while built)."""
    import dataclasses

    from corsware._settings import Settings
    from corsware._validate import _Draft

    assert [f.name for f in dataclasses.fields(_Draft)] == [f.name for f in dataclasses.fields(Settings)]
