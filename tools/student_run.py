"""pytest plugin for running the student edition with nbval (``make test-student``).

nbval executes every cell and fails on an unexpected error; a cell tagged
``raises-exception`` may raise. For the student edition that is not enough: every
exercise check (an nbgrader test cell) must *show its hint*, that is raise the checks'
``ExerciseError`` with a hint, since the learner's stub is not written yet. A check that
passes on a stub, or stops with another error, fails its test here.
"""

from __future__ import annotations

from typing import Any

import pytest

_checks_seen: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    cell = getattr(item, "cell", None)
    if call.when != "call" or cell is None:
        return
    if not cell.get("metadata", {}).get("nbgrader", {}).get("grade", False):
        return
    _checks_seen.append(item.nodeid)
    if not report.passed:
        return
    errors = [o for o in item.test_outputs or [] if o.get("output_type") == "error"]
    source = "".join(cell.get("source", ""))
    if not errors:
        problem = "passed, but in the student edition the learner's stub is not written yet"
    elif errors[0].get("ename") != "ExerciseError" or "Hint:" not in errors[0].get("evalue", ""):
        problem = (f"raised {errors[0].get('ename')}: {errors[0].get('evalue')} instead of "
                   "showing a hint")
    else:
        return
    report.outcome = "failed"
    report.longrepr = f"the exercise check {source!r} {problem}"


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    if session.testscollected and not _checks_seen and exitstatus == 0:
        print("\nno exercise check (nbgrader test cell) was run: is this the student edition?")
        session.exitstatus = 1
