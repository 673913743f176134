"""Migrations follow expand, migrate, contract (docs/upgrades.md): while a rolling upgrade
runs, the previous release's processes keep reading and writing the schema the next
migration has changed, so no migration may take away what the running code uses.

A migration's `upgrade()` that drops or renames a table or a column, or changes a column's
type, fails this guard unless its docstring says `Contract step of revision <r>`: the
expand migration `<r>` of the same service, released earlier, from which on no code reads
what the contract step removes; and a contract step adds nothing itself (an expand and its
contract in one migration is exactly the one-step change the rule forbids)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REMOVING_CALLS = {"drop_column", "drop_table", "rename_table"}
ADDING_CALLS = {"add_column", "create_table"}
REMOVING_SQL = re.compile(
    r"\b(DROP\s+(COLUMN|TABLE)|RENAME\s+(COLUMN|TO)|ALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE)\b", re.I
)
CONTRACT = re.compile(r"Contract step of revision (\w+)")
# written before the first release: no deployment ever ran the schema they change
BEFORE_THE_RULE = {
    ("rewards", "0002"),  # milestone rules in series, progress keyed by series
    ("usage-ingest", "0002"),  # dedup keys compacted into a new table
}


@dataclass(frozen=True)
class Migration:
    service: str
    revision: str
    path: Path
    docstring: str
    removes: tuple[str, ...]
    adds: tuple[str, ...]


def _call_name(node: ast.Call) -> str | None:
    function = node.func
    if (
        isinstance(function, ast.Attribute)
        and isinstance(function.value, ast.Name)
        and function.value.id == "op"
    ):
        return function.attr
    return None


def _changes(upgrade: ast.FunctionDef) -> tuple[list[str], list[str]]:
    """What `upgrade()` removes (drops, renames, type changes) and what it adds."""
    removes, adds = [], []
    for node in ast.walk(upgrade):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        line = f"line {node.lineno}: op.{name}"
        keywords = {k.arg for k in node.keywords}
        if name in REMOVING_CALLS or (name == "alter_column" and keywords & {"new_column_name", "type_"}):
            removes.append(line)
        elif name in ADDING_CALLS:
            adds.append(line)
        elif name == "execute":
            text = " ".join(
                c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)
            )
            if REMOVING_SQL.search(text):
                removes.append(f"{line} ({REMOVING_SQL.search(text).group(0)})")  # type: ignore[union-attr]
    return removes, adds


def read_migration(service: str, path: Path) -> Migration:
    tree = ast.parse(path.read_text())
    revision = next(
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "revision" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    )
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    removes, adds = _changes(upgrade)
    return Migration(service, str(revision), path, ast.get_docstring(tree) or "", tuple(removes), tuple(adds))


def migrations(root: Path) -> list[Migration]:
    return [
        read_migration(path.parts[-4], path)
        for path in sorted(root.glob("services/*/migrations/versions/*.py"))
    ]


def violations(found: list[Migration], grandfathered: set[tuple[str, str]]) -> list[str]:
    problems = []
    revisions = {(m.service, m.revision) for m in found}
    for m in found:
        if not m.removes or (m.service, m.revision) in grandfathered:
            continue
        where = f"{m.service} {m.revision} ({m.path.name})"
        contract = CONTRACT.search(m.docstring)
        if contract is None:
            problems.append(f"{where} removes in one step: {', '.join(m.removes)}")
        elif (m.service, contract.group(1)) not in revisions or contract.group(1) >= m.revision:
            problems.append(f"{where}: contract step of {contract.group(1)}, no earlier revision of it")
        elif m.adds:
            problems.append(f"{where}: a contract step adds too: {', '.join(m.adds)}")
    return problems


def test_no_migration_takes_away_what_the_running_release_uses() -> None:
    found = migrations(ROOT)
    assert len({m.service for m in found}) == 4
    assert violations(found, BEFORE_THE_RULE) == []


def test_the_grandfathered_migrations_still_exist() -> None:
    found = {(m.service, m.revision) for m in migrations(ROOT)}
    assert BEFORE_THE_RULE <= found


def _write(folder: Path, name: str, revision: str, docstring: str, upgrade: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f'"""{docstring}"""\nfrom alembic import op\nrevision = "{revision}"\n\n'
        f"def upgrade() -> None:\n{upgrade}\n\ndef downgrade() -> None:\n    op.drop_column('t', 'c')\n"
    )


def test_the_guard_refuses_one_step_removals_and_accepts_a_contract_step(tmp_path: Path) -> None:
    versions = tmp_path / "services" / "svc" / "migrations" / "versions"
    _write(versions, "a_0001.py", "0001", "Expand: new column.", "    op.add_column('t', 'new')")
    _write(versions, "b_0002.py", "0002", "Renames.", "    op.alter_column('t', 'c', new_column_name='d')")
    _write(versions, "c_0003.py", "0003", "Drops.", "    op.execute('ALTER TABLE t DROP COLUMN c')")
    _write(versions, "d_0004.py", "0004", "Contract step of revision 0001.", "    op.drop_column('t', 'old')")
    _write(
        versions,
        "e_0005.py",
        "0005",
        "Contract step of revision 0001.",
        "    op.drop_column('t', 'old')\n    op.add_column('t', 'x')",
    )
    _write(versions, "f_0006.py", "0006", "Contract step of revision 0009.", "    op.drop_table('t')")
    _write(versions, "g_0007.py", "0007", "Widens.", "    op.alter_column('t', 'c', type_=None)")
    problems = violations(migrations(tmp_path), set())
    assert [p.split(" ")[1] for p in problems] == ["0002", "0003", "0005", "0006", "0007"]
