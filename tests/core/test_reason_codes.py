"""docs/reason-codes.md documents exactly the reason codes the code can produce.

The codes are read from the source with ``ast``, not from a hand-kept list:

- configuration codes: the ``code`` argument of every ``Problem(...)`` in ``corsware/``
  (and of the ``bad(code, ...)`` helper of the origin parser), resolving names bound by a
  ``for`` over a literal tuple;
- decision codes: the ``reason`` of every ``CORSDecision(...)`` and ``PreflightAnswer(...)``
  built with a literal or a constant of ``corsware._reasons`` (``R.ALLOWED``), and the first
  element of the ``(code, detail)`` problem tuples the preflight checks append; every one
  must be declared in ``corsware._reasons.DECISION_REASONS``, which the page documents
  exactly.

A code the test cannot resolve to a literal fails the test, so a new code cannot slip past.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from corsware import CORSDecision, _reasons
from corsware._compile import PreflightAnswer
from tests.support.docs_blocks import DOCS, ROOT
from tests.support.reason_codes import documented_codes

PACKAGE = ROOT / "corsware"
PAGE = DOCS / "reason-codes.md"

_DECISION_REASON_INDEX = [f.name for f in dataclasses.fields(CORSDecision)].index("reason")
_ANSWER_REASON_INDEX = PreflightAnswer._fields.index("reason")


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _arg(node: ast.Call, index: int, keyword: str) -> ast.expr | None:
    if len(node.args) > index and not any(isinstance(a, ast.Starred) for a in node.args[: index + 1]):
        return node.args[index]
    return next((k.value for k in node.keywords if k.arg == keyword), None)


def _problem_helpers(tree: ast.AST) -> dict[str, int]:
    """Functions that build a Problem from one of their parameters, e.g. ``bad(code, why)``.

    Returns name -> position of that parameter; their call sites carry the literal codes.
    """
    helpers: dict[str, int] = {}
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [a.arg for a in func.args.args]
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and _call_name(node) == "Problem":
                code = _arg(node, 2, "code")
                if isinstance(code, ast.Name) and code.id in params:
                    helpers[func.name] = params.index(code.id)
    return helpers


class _Collector(ast.NodeVisitor):
    def __init__(self, path: Path, helpers: dict[str, int]) -> None:
        self.path = path
        self.helpers = helpers
        self.config: set[str] = set()
        self.decision: set[str] = set()
        self.unresolved: list[str] = []
        # name -> the literal strings it takes in `for a, name in ((..., "x"), ...)` loops
        self.loop_values: dict[str, set[str]] = {}
        self._params: list[set[str]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._params.append({a.arg for a in node.args.args})
        self.generic_visit(node)
        self._params.pop()

    def visit_For(self, node: ast.For) -> None:
        targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
        if isinstance(node.iter, (ast.Tuple, ast.List)):
            for position, target in enumerate(targets):
                if not isinstance(target, ast.Name):
                    continue
                for item in node.iter.elts:
                    value = item.elts[position] if isinstance(item, ast.Tuple) else item
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        self.loop_values.setdefault(target.id, set()).add(value.value)
        self.generic_visit(node)

    def _resolve(self, node: ast.expr | None, where: ast.AST, into: set[str]) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            into.add(node.value)
        elif isinstance(node, ast.Name) and node.id in self.loop_values:
            into.update(self.loop_values[node.id])
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "R"  # from . import _reasons as R
            and isinstance(getattr(_reasons, node.attr, None), str)
        ):
            into.add(getattr(_reasons, node.attr))
        else:
            line = getattr(where, "lineno", "?")
            self.unresolved.append(f"{self.path.relative_to(ROOT)}:{line}: {ast.unparse(node) if node else None}")

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if name == "Problem":
            code = _arg(node, 2, "code")
            if isinstance(code, ast.Attribute) and code.attr == "code":
                pass  # Problem(f"{field}.{p.field}", p.value, p.code, ...): re-wraps a known problem
            elif isinstance(code, ast.Name) and self._params and code.id in self._params[-1]:
                pass  # inside a helper such as bad(code, why): its call sites are read instead
            else:
                self._resolve(code, node, self.config)
        elif name in self.helpers and len(node.args) > self.helpers[name]:
            self._resolve(node.args[self.helpers[name]], node, self.config)
        elif name == "CORSDecision":
            reason = _arg(node, _DECISION_REASON_INDEX, "reason")
            if not (isinstance(reason, ast.Attribute) and reason.attr == "reason"):
                self._resolve(reason, node, self.decision)
        elif name == "PreflightAnswer":
            reason = _arg(node, _ANSWER_REASON_INDEX, "reason")
            if not (isinstance(reason, ast.Name) and reason.id == "reason"):  # reason = problems[0][0]
                self._resolve(reason, node, self.decision)
        elif (
            name == "append"
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "problems"
            and node.args
            and isinstance(node.args[0], ast.Tuple)
        ):
            self._resolve(node.args[0].elts[0], node, self.decision)
        self.generic_visit(node)


def source_codes() -> tuple[set[str], set[str], list[str]]:
    """(configuration codes, decision codes, unresolvable code expressions) in corsware/."""
    config: set[str] = set()
    decision: set[str] = set()
    unresolved: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        collector = _Collector(path, _problem_helpers(tree))
        collector.visit(tree)
        config |= collector.config
        decision |= collector.decision
        unresolved += collector.unresolved
    return config, decision, unresolved


def _section(sections: dict[str, list[str]], prefix: str) -> list[str]:
    matches = [codes for title, codes in sections.items() if title.startswith(prefix)]
    assert len(matches) == 1, f"{PAGE.name} needs exactly one section titled {prefix!r}..., has {list(sections)}"
    return matches[0]


def test_every_code_in_the_source_is_a_literal() -> None:
    _, _, unresolved = source_codes()
    assert not unresolved, "reason codes must be string literals so they can be documented:\n" + "\n".join(unresolved)


def test_configuration_codes_are_documented_exactly() -> None:
    config, _, _ = source_codes()
    documented = _section(documented_codes(), "Configuration errors")
    assert len(documented) == len(set(documented)), "a configuration code is documented twice"
    assert set(documented) == config, (
        f"undocumented: {sorted(config - set(documented))}; documented but never produced: "
        f"{sorted(set(documented) - config)}"
    )


def test_decision_codes_are_documented_exactly() -> None:
    _, decision, _ = source_codes()
    documented = _section(documented_codes(), "Decision reasons")
    assert len(documented) == len(set(documented)), "a decision code is documented twice"
    assert set(documented) == decision, (
        f"undocumented: {sorted(decision - set(documented))}; documented but never produced: "
        f"{sorted(set(documented) - decision)}"
    )


def test_decision_codes_are_declared_once_and_documented() -> None:
    """corsware._reasons declares every decision code with its meaning; the page documents
    exactly those, and the code produces no other."""
    declared = set(_reasons.DECISION_REASONS)
    _, decision, _ = source_codes()
    assert decision <= declared, f"produced but not declared in corsware._reasons: {sorted(decision - declared)}"
    assert set(_section(documented_codes(), "Decision reasons")) == declared
    assert all(meaning and "\n" not in meaning for meaning in _reasons.DECISION_REASONS.values())


def test_the_collector_finds_known_codes() -> None:
    """Guards the reader itself: a few codes that certainly exist must be found."""
    config, decision, _ = source_codes()
    assert {"wildcard_origin_with_credentials", "origin_trailing_slash", "origin_has_query", "unknown_option"} <= config
    assert {"allowed", "no_origin", "origin_not_allowed", "method_not_allowed", "header_not_allowed"} <= decision
