"""The offline `ecoops psi` commands: two partners with CSV files run the four steps and each gets
the plaintext join on the same normalised keys (or its counts), and nothing else."""

from __future__ import annotations

import csv
import stat
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from ecoops.cli import app
from ecoops.engines.matching import keyed_accounts
from ecoops.engines.psi import item_keys
from ecoops.mapping.files import read_accounts

OURS = """Account ID,Account Name,Website,Billing Country,Segment
A1,Acme GmbH,https://www.acme.com/de,Germany,customers
A2,Globex Corporation,globex.com,USA,prospects
A3,Initech Inc.,,United States,customers
A4,Umbrella,umbrella.example,France,customers
A5,Nameless,,,
A6,,,,customers
,No Id Ltd,noid.example,Germany,customers
"""
THEIRS = """Id,Name,Website,Country,Stage
P1,ACME,acme.com,DE,open
P2,Initech,,US,won
P3,Hooli,hooli.com,US,open
P4,Acme,www.acme.com,Germany,won
P5,Umbrella Corp,,FR,open
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def plaintext_join(ours: Path, theirs: Path) -> set[tuple[str, str]]:
    """(our id, their id) of records sharing a normalised key, computed without the protocol."""

    def keys(path: Path) -> dict[str, set[str]]:
        table = read_accounts(path).accounts
        keyed = keyed_accounts(table, side=path.name)
        return {i: set(k) for i, k in zip(keyed.column("id").to_pylist(), item_keys(keyed), strict=True)}

    a, b = keys(ours), keys(theirs)
    return {(x, y) for x, kx in a.items() for y, ky in b.items() if kx & ky}


def run(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def four_steps(tmp_path: Path, mode: str, *extra: str) -> tuple[Path, Path, list[bytes]]:
    ours, theirs = write(tmp_path, "ours.csv", OURS), write(tmp_path, "theirs.csv", THEIRS)
    a_state, b_state = tmp_path / "a.state", tmp_path / "b.state"
    m = [tmp_path / f"msg{n}.psi" for n in range(1, 5)]
    a_out, b_out = tmp_path / "a-overlaps.csv", tmp_path / "b-overlaps.csv"
    output = run(
        "psi",
        "start",
        ours,
        "--mode",
        mode,
        "-o",
        m[0],
        "--state",
        a_state,
        *extra,
        "--population-column",
        "Segment",
    )
    assert "secret" in output
    assert "ours.csv: 5 accounts offered; 2 left out (no id, or no domain or name to match on)" in output
    assert stat.S_IMODE(a_state.stat().st_mode) == 0o600
    run(
        "psi", "respond", theirs, m[0], "-o", m[1], "--state", b_state, *extra, "--population-column", "Stage"
    )
    assert stat.S_IMODE(b_state.stat().st_mode) == 0o600
    run("psi", "continue", m[1], "-o", m[2], "--state", a_state)
    run("psi", "finish", m[2], "--reply", m[3], "-o", b_out, "--state", b_state)
    run("psi", "finish", m[3], "-o", a_out, "--state", a_state)
    assert not a_state.exists() and not b_state.exists()
    return a_out, b_out, [p.read_bytes() for p in m]


def test_reveal_run_gives_each_side_the_plaintext_join(tmp_path: Path) -> None:
    a_out, b_out, messages = four_steps(tmp_path, "reveal", "--release", "id,name")
    expected = plaintext_join(tmp_path / "ours.csv", tmp_path / "theirs.csv")
    # by hand: acme.com (A1-P1, A1-P4), "initech"|US (A3-P2), "umbrella"|FR once "Corp" is dropped (A4-P5)
    assert expected == {("A1", "P1"), ("A1", "P4"), ("A3", "P2"), ("A4", "P5")}
    a_rows, b_rows = rows(a_out), rows(b_out)
    assert {(r["our_id"], r["their_id"]) for r in a_rows} == expected
    assert {(r["their_id"], r["our_id"]) for r in b_rows} == expected
    assert {r["their_population"] for r in a_rows} == {"open", "won"}
    assert {r["their_name"] for r in b_rows} == {"Acme GmbH", "Initech Inc.", "Umbrella"}
    for message in messages:
        # (words of 5+ bytes: a 2-byte id would turn up in random group elements by chance)
        for word in (b"acme.com", b"Acme GmbH", b"initech", b"Hooli", b"hooli", b"Globex", b"customers"):
            assert word not in message


def test_counts_only_run_gives_counts_per_population_pair(tmp_path: Path) -> None:
    a_out, b_out, messages = four_steps(tmp_path, "count")
    segment = {"A1": "customers", "A3": "customers", "A4": "customers"}
    stage = {"P1": "open", "P2": "won", "P4": "won", "P5": "open"}
    expected = Counter(
        (segment[a], stage[b]) for a, b in plaintext_join(tmp_path / "ours.csv", tmp_path / "theirs.csv")
    )
    assert {(r["our_population"], r["their_population"]): int(r["pairs"]) for r in rows(a_out)} == expected
    assert {(r["their_population"], r["our_population"]): int(r["pairs"]) for r in rows(b_out)} == expected
    for message in messages:
        assert b"acme.com" not in message and b"initech" not in message


def test_a_wrong_message_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    ours = write(tmp_path, "ours.csv", OURS)
    state = tmp_path / "a.state"
    run("psi", "start", ours, "-o", tmp_path / "m1.psi", "--state", state)
    result = CliRunner().invoke(
        app, ["psi", "continue", str(tmp_path / "m1.psi"), "-o", str(tmp_path / "x"), "--state", str(state)]
    )
    assert result.exit_code == 2
    assert "expected message 2, got message 1" in result.output
    garbage = write(tmp_path, "junk.psi", "hello")
    result = CliRunner().invoke(
        app,
        [
            "psi",
            "respond",
            str(ours),
            str(garbage),
            "-o",
            str(tmp_path / "y"),
            "--state",
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 2 and "not an ecoops PSI message" in result.output
