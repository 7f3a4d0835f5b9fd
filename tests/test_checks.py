"""The shared machinery of the exercise checks."""

import pytest

from helpers.checks import ExerciseError, call_learner, fail, passed


def test_passed_prints(capsys):
    passed("well done")
    assert "Correct! well done" in capsys.readouterr().out


def test_fail_raises_with_hint_and_short_traceback():
    with pytest.raises(ExerciseError, match="Hint: look again") as info:
        fail("look again")
    # Jupyter shows only the hint, no stack trace (and no file paths).
    assert info.value._render_traceback_() == [f"ExerciseError: {info.value}"]


def test_call_learner_turns_stubs_and_errors_into_hints():
    def stub():
        raise NotImplementedError

    def broken():
        return 1 / 0

    with pytest.raises(ExerciseError, match="NotImplementedError"):
        call_learner(stub)
    with pytest.raises(ExerciseError, match="ZeroDivisionError"):
        call_learner(broken)
    assert call_learner(lambda x: x + 1, 1) == 2
