"""`runwatch history`'s Flaky section (issue 16): the flaky specs and tests of each track,
below the per-track rows, as a person reads them in a terminal: "1 in 5", the rate, and no
escape that was written into the history file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runwatch.history import HistoryStore, history_path
from runwatch.history.flaky_tests import TestsSeen
from runwatch.models import RunDetail, RunStatus, Spec, TestResult
from test_history import a_currents_run, a_run, run_history


def flaky_world() -> None:
    """Five recorded Currents runs: login.spec.ts (chrome) failed in one of them, its test
    "logs in" failed in another; "always red" never passed, "always green" never failed.
    A services track beside it has no spec results at all."""
    runs = [a_currents_run(f"r{n}", days_ago=5 - n) for n in range(5)]
    store = HistoryStore()
    store.upsert([*runs, a_run("s1", days_ago=1)])
    for n, run in enumerate(runs):
        status = RunStatus.FAILED if n == 1 else RunStatus.PASSED
        spec = Spec(spec="cypress/e2e/login.spec.ts", group="chrome", status=status)
        steady = Spec(spec="cypress/e2e/home.spec.ts", group="chrome", status=RunStatus.PASSED)
        store.upsert_specs(RunDetail(**run.model_dump(), specs=[spec, steady]))
        results = (TestResult(title="logs in", status=RunStatus.FAILED if n == 3
                              else RunStatus.PASSED),
                   TestResult(title="always red", status=RunStatus.FAILED),
                   TestResult(title="always green", status=RunStatus.PASSED))
        store.upsert_tests(TestsSeen(run, spec, results))
    store.close()


def flaky_section(stdout: str) -> list[list[str]]:
    """The Flaky section's rows, each split on its runs of two or more spaces."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Flaky ("))
    head, *rows = lines[start + 1:]
    assert head.split() == ["SOURCE", "PIPELINE", "BRANCH", "SPEC", "TEST", "FAILED", "RATE"]
    return [[cell.strip() for cell in row.split("  ") if cell.strip()] for row in rows]


def test_the_text_table_lists_flaky_specs_and_tests_below_the_tracks(tmp_path: Path) -> None:
    flaky_world()
    answer = run_history()
    assert answer.returncode == 0, answer.stderr
    tracks = answer.stdout.split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in tracks[1:]] == ["ci", "currents"]  # the tracks first
    assert "Flaky (failed and passed in the track's last 20 recorded runs" in answer.stdout
    assert flaky_section(answer.stdout) == [
        ["currents", "build", "main", "cypress/e2e/login.spec.ts (chrome)", "(the spec)",
         "1 in 5", "20%"],
        ["currents", "build", "main", "cypress/e2e/login.spec.ts (chrome)", "logs in",
         "1 in 5", "20%"],
    ]
    # The same figures as --json, which scripts read.
    as_json = run_history("--json")
    assert '"failed": 1' in as_json.stdout and '"rate": 0.2' in as_json.stdout


def test_escapes_written_into_the_file_never_reach_the_terminal(tmp_path: Path) -> None:
    flaky_world()
    db = sqlite3.connect(history_path())  # a hand edit, or another program
    with db:
        db.execute("UPDATE tests SET title = ? WHERE title = 'logs in'",
                   ("logs\x1b]52;c;eA==\x07 in",))
        db.execute("UPDATE specs SET grp = ? WHERE spec LIKE '%login%'", ("chr\x1b[2Jome",))
        db.execute("UPDATE tests SET grp = ? WHERE spec LIKE '%login%'", ("chr\x1b[2Jome",))
    db.close()
    answer = run_history()
    assert answer.returncode == 0, answer.stderr
    assert "\x1b" not in answer.stdout and "\x07" not in answer.stdout
    rows = flaky_section(answer.stdout)
    assert [row[4] for row in rows] == ["(the spec)", "logs in"]
    assert all(row[3].startswith("cypress/e2e/login.spec.ts (chr") for row in rows)


def test_no_flaky_section_when_nothing_flaked(tmp_path: Path) -> None:
    store = HistoryStore()
    runs = [a_currents_run(f"r{n}", days_ago=5 - n) for n in range(3)]
    store.upsert(runs)
    for run in runs:  # always passed: recorded, not flaky
        spec = Spec(spec="home.spec.ts", status=RunStatus.PASSED)
        store.upsert_specs(RunDetail(**run.model_dump(), specs=[spec]))
    store.close()
    answer = run_history()
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines()[1].startswith("currents ")
    assert "Flaky" not in answer.stdout


def test_a_spec_opened_in_many_runs_counts_its_newest_20_as_the_whole_track_does(
        tmp_path: Path) -> None:
    """The spec results screen reads one spec's outcomes with its own query (it stops after
    the newest 20 runs): the same tests, the same counts, as the track-wide one."""
    from runwatch.history.flaky_tests import flaky_tests

    runs = [a_currents_run(f"r{n:02d}", days_ago=40 - n) for n in range(30)]
    spec = Spec(spec="cart.spec.ts", group="firefox", status=RunStatus.PASSED)
    other = Spec(spec="home.spec.ts", status=RunStatus.PASSED)
    store = HistoryStore()
    store.upsert(runs)
    for n, run in enumerate(runs):
        red = {3: "adds", 25: "adds", 27: "pays", 5: "pays"}.get(n)  # 3 and 5: too old
        store.upsert_tests(TestsSeen(run, spec, tuple(
            TestResult(title=t, status=RunStatus.FAILED if t == red else RunStatus.PASSED)
            for t in ("adds", "pays", "ships"))))
        store.upsert_tests(TestsSeen(run, other, (
            TestResult(title="opens", status=RunStatus.FAILED if n == 29 else RunStatus.PASSED),)))
    one = store.test_outcomes(*runs[0].track, spec)
    whole = store.test_outcomes(*runs[0].track)
    store.close()
    assert {o.run_id for o in one} == {f"r{n:02d}" for n in range(10, 30)}
    assert one == [o for o in whole if o.spec == "cart.spec.ts"]
    assert [(f.title, f.failed, f.runs) for f in flaky_tests(one)] == [
        ("adds", 1, 20), ("pays", 1, 20)]
    assert [(f.spec, f.title) for f in flaky_tests(whole)][-1] == ("home.spec.ts", "opens")
