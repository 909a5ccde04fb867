"""The code's house rules, checked: services never commit, every module says what it holds."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ecoops"
# Only the places that own a transaction may commit: the request dependency, db.transaction, the CLI.
MAY_COMMIT = {"web/deps.py", "db.py"}


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations/versions" not in p.as_posix()]


def test_services_leave_the_commit_to_the_caller():
    offenders = []
    for path in _modules():
        relative = path.relative_to(SRC).as_posix()
        if relative in MAY_COMMIT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "commit":
                offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f".commit( outside the transaction owners: {offenders}"


def test_every_module_has_a_docstring():
    missing = [
        p.relative_to(SRC).as_posix()
        for p in _modules()
        if p.name != "__init__.py" and ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert not missing, f"modules without a docstring: {missing}"
