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


def test_call_learner_names_the_unfinished_stub_inside_a_helper():
    def my_stub(x):
        raise NotImplementedError

    def uses_it(x):
        return my_stub(x) + 1

    with pytest.raises(ExerciseError, match=r"`my_stub` \(called by `uses_it`\)"):
        call_learner(uses_it, 1)


def test_checks_leave_the_global_random_state_alone():
    """Cells after a check draw the same random numbers whether the check stopped at a stub
    (student edition) or ran to the end (instructor edition)."""
    import random

    import numpy as np
    import torch

    import helpers.checks as checks

    def state():
        return random.random(), np.random.random(), torch.rand(1).item()  # noqa: NPY002

    def stub(*args):
        raise NotImplementedError

    def select_action(policy_net, state, epsilon, rng):
        with torch.no_grad():
            q_values = policy_net(state)
        if rng.random() < epsilon:
            return int(rng.integers(q_values.shape[-1]))
        return int(q_values.argmax())

    names = [name for name in checks.__all__ if name.startswith("check_")]
    assert len(names) >= 13
    runs = [(getattr(checks, name), stub) for name in names]
    runs.append((checks.check_select_action, select_action))
    for check, fn in runs:
        random.seed(1)
        np.random.seed(1)  # noqa: NPY002
        torch.manual_seed(1)
        expected = state()
        random.seed(1)
        np.random.seed(1)  # noqa: NPY002
        torch.manual_seed(1)
        try:
            check(fn)
        except ExerciseError:
            pass
        assert state() == expected, check.__name__
