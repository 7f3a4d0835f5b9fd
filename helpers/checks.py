"""Instant feedback for the exercises.

Every exercise in the series follows the same pattern:

1. a stub the learner completes;
2. a ``check_...`` call from this module on the learner's function: it prints a pass
   message, or raises :class:`ExerciseError` with a hint (the cell is tagged
   ``raises-exception`` so "Run All" carries on, and is an nbgrader test cell);
3. the reference solution, under another name (``reference_...``), so that it never
   overwrites the learner's function, in a cell marked ``### BEGIN SOLUTION`` /
   ``### END SOLUTION`` (an nbgrader solution cell) that ends with the same check on the
   reference, which must pass. The student edition leaves these cells out.

A check compares the learner's function against a reference on several cases,
including edge cases a first attempt tends to miss; the hint names the case that
failed and what is wrong, never the answer. Numbers are compared with a tolerance that
float32 arithmetic meets (:data:`RTOL`, :data:`ATOL`), so a right answer in float32 or
float64, as a list, an array, a NumPy scalar or a tensor passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ExerciseError", "passed", "fail", "call_learner", "RTOL", "ATOL"]

#: Tolerances for comparing a learner's numbers with the reference: float32 arithmetic
#: (about 7 significant digits) passes, any real mistake in the cases below is far larger.
RTOL, ATOL = 1e-5, 1e-6


class ExerciseError(AssertionError):
    """Raised by a check when the learner's answer is not right yet."""

    def _render_traceback_(self) -> list[str]:
        """What Jupyter shows: the hint alone, without a stack trace through the checker."""
        return [f"ExerciseError: {self}"]


def passed(message: str) -> None:
    """Print the pass message of a check."""
    print(f"\N{WHITE HEAVY CHECK MARK} Correct! {message}")


def fail(hint: str) -> None:
    """Stop with a hint for the learner."""
    raise ExerciseError(f"\N{CROSS MARK} Not yet. Hint: {hint}")


def _leaves_random_state_alone(check: Callable[..., None]) -> Callable[..., None]:
    """Run ``check`` without changing the global random state of Python, NumPy and torch.

    A check seeds its own test cases and calls the learner's function many times. Without
    this, the cells after a check would draw different random numbers depending on how far
    the check got: the student edition (the check stops at the stub) and the instructor
    edition (it runs to the end) would then print different results further down.
    """
    import functools

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        import random
        import sys

        import numpy as np

        torch = sys.modules.get("torch")
        python_state = random.getstate()
        numpy_state = np.random.get_state()  # noqa: NPY002 -- the legacy global state
        torch_state = torch.random.get_rng_state() if torch is not None else None
        try:
            return check(*args, **kwargs)
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)  # noqa: NPY002
            if torch is not None:
                torch.random.set_rng_state(torch_state)

    return wrapper


def _innermost_function(exc: BaseException) -> str | None:
    """The name of the function an exception was raised in (the last frame of its traceback)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return None if tb is None else tb.tb_frame.f_code.co_name


def call_learner(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning an unfinished stub into a friendly hint."""
    name = getattr(fn, "__name__", "your function")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        stub = _innermost_function(exc)
        if stub in (None, name, "__init__", "<module>"):
            fail(f"`{name}` still raises NotImplementedError -- replace the stub's body with "
                 "your code.")
        fail(f"`{stub}` (called by `{name}`) still raises NotImplementedError -- finish "
             "that exercise first.")
    except ExerciseError:
        raise
    except Exception as exc:  # show the learner's own error as a hint, not a traceback maze
        fail(f"`{name}` raised {type(exc).__name__}: {exc}")


def _call_on_tensors(case: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``call_learner(fn, *args)`` that must leave its tensor arguments unchanged and
    return a tensor; ``case`` names the test case in the hint."""
    import torch

    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    copies = [t.clone() for t in tensors]
    got = call_learner(fn, *args)
    if not all(torch.equal(t, c) for t, c in zip(tensors, copies, strict=True)):
        fail(f"on {case}: your function changed its inputs in place; build a new tensor")
    if not isinstance(got, torch.Tensor):
        fail(f"on {case}: return a torch tensor, got {type(got).__name__}")
    return got


def _as_array(got: Any, case: str, what: str) -> Any:
    """``got`` as a float64 NumPy array, or a hint saying what ``what`` should be."""
    import numpy as np

    try:
        if hasattr(got, "detach"):  # a torch tensor, possibly with a gradient
            got = got.detach().cpu().numpy()
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError) as exc:
        fail(f"on {case}: return {what}, got {type(got).__name__} ({exc})")


# --- Lesson 01: the Bellman equations -------------------------------------------------------
#
# Models use gymnasium's toy-text format, ``P[s][a] = [(prob, next_state, reward, terminated),
# ...]``, the ``env.unwrapped.P`` of FrozenLake and CliffWalking.

__all__ += ["check_bellman_backup", "check_q_from_v", "check_value_iteration"]


def _q_from_v_reference(P: dict, V: Any, gamma: float, mask_terminal: bool = True) -> Any:
    """Q(s, a) = sum_{s'} p (r + gamma V(s') [not terminated]); optionally without the mask."""
    import numpy as np

    n_states, n_actions = len(P), len(P[0])
    Q = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, terminated in P[s][a]:
                bootstrap = 0.0 if (terminated and mask_terminal) else V[s_next]
                Q[s, a] += prob * (reward + gamma * bootstrap)
    return Q


def _bellman_cases() -> list[tuple[str, dict, Any, float]]:
    """Test MDPs: ``(name, P, V, gamma)``, with V non-zero in terminal states on purpose."""
    import gymnasium as gym
    import numpy as np

    rng = np.random.default_rng(0)
    frozen = gym.make("FrozenLake-v1", is_slippery=True).unwrapped.P
    cliff = gym.make("CliffWalking-v1").unwrapped.P
    # A two-state toy: a terminating and a continuing outcome lead to the same next state,
    # so only the `terminated` flag tells them apart.
    toy = {
        0: {
            0: [(1.0, 0, 1.0, False)],
            1: [(0.5, 1, 0.0, False), (0.5, 1, 5.0, True)],
        },
        1: {
            0: [(1.0, 1, -1.0, False)],
            1: [(0.25, 0, 2.0, False), (0.75, 1, -2.0, True)],
        },
    }
    return [
        ("slippery FrozenLake 4x4, gamma=0.99, random V", frozen, rng.uniform(0, 1, 16), 0.99),
        ("slippery FrozenLake 4x4, gamma=1, random V", frozen, rng.uniform(0, 1, 16), 1.0),
        ("a two-state toy MDP, gamma=0.9", toy, np.array([3.0, -4.0]), 0.9),
        ("CliffWalking, gamma=0.5, random V", cliff, rng.uniform(-20, 0, 48), 0.5),
    ]


def _diagnose_bellman(got: Any, P: dict, V: Any, gamma: float, state: int | None) -> str:
    """A hint for the typical mistakes, recognised by reproducing them."""
    import numpy as np

    def pick(Q: Any) -> Any:
        return Q if state is None else Q[state]

    unmasked = _q_from_v_reference(P, V, gamma, mask_terminal=False)
    no_gamma = _q_from_v_reference(P, V, 1.0)
    variants = [(unmasked, "a transition with terminated=True ends the episode: it earns its "
                           "reward, but nothing is added after it (do not bootstrap from V there)")]
    if gamma != 1.0:
        variants.append((no_gamma, "the value of the next state is discounted by gamma"))
    for fixed in (0.99, 0.9, 1.0):
        if fixed != gamma:
            variants.append((_q_from_v_reference(P, V, fixed),
                             f"use the gamma passed to your function (here {gamma}); your "
                             f"result is what gamma = {fixed} gives"))
    for Q, hint in variants:
        wrong = pick(Q) if state is None else pick(Q).max()
        if np.allclose(got, wrong, rtol=RTOL, atol=ATOL):
            return hint
    if state is not None:
        correct = pick(_q_from_v_reference(P, V, gamma))
        if np.isclose(got, correct.mean(), rtol=RTOL, atol=ATOL):
            return ("the optimality backup takes the best action (max over a), "
                    "not the average over actions")
        if np.any(np.isclose(got, correct, rtol=RTOL, atol=ATOL)):
            return "you returned one action's value; the backup takes the best of them"
    return ("sum over every outcome (prob, next_state, reward, terminated) of P[s][a]: "
            "prob * (reward + gamma * V[next_state]), with no V term after a terminal transition")


@_leaves_random_state_alone
def check_bellman_backup(fn: Callable[..., Any]) -> None:
    """Check ``fn(P, V, state, gamma)``: one Bellman *optimality* backup of one state.

    .. math:: V_{new}(s) = \\max_a \\sum_{(p, s', r, d) \\in P[s][a]} p \\,
              \\big(r + \\gamma (1 - d) V(s')\\big)

    ``fn`` must return a single number and must not modify ``V``.
    """
    import numpy as np

    n_checked = 0
    for name, P, V, gamma in _bellman_cases():
        states = sorted({0, len(P) - 1, *range(0, len(P), max(1, len(P) // 7))})
        if len(P) == 16:
            states = sorted({*states, 5, 14, 15})  # a hole, next to the goal, the goal
        reference = _q_from_v_reference(P, V, gamma).max(axis=1)
        for s in states:
            V_before = V.copy()
            got = call_learner(fn, P, V, s, gamma)
            if not np.array_equal(V, V_before):
                fail(f"on {name}, state {s}: your function changed V in place; "
                     "compute the backup without writing into V")
            got_arr = _as_array(got, f"{name}, state {s}", "a single number")
            if got_arr.size != 1:
                fail(f"on {name}, state {s}: return a single number (the backed-up V(s)), "
                     f"got an array of shape {got_arr.shape}")
            value = float(got_arr.reshape(()))
            if not np.isclose(value, reference[s], rtol=RTOL, atol=ATOL):
                fail(f"on {name}, state {s}: {_diagnose_bellman(value, P, V, gamma, s)}")
            n_checked += 1
    passed(f"one Bellman optimality backup matches on {n_checked} states of 4 MDPs "
           "(FrozenLake with gamma 0.99 and 1, a toy MDP, CliffWalking), terminal "
           "transitions included.")


@_leaves_random_state_alone
def check_q_from_v(fn: Callable[..., Any]) -> None:
    """Check ``fn(P, V, gamma)`` returns the one-step look-ahead ``Q`` of shape ``(S, A)``.

    .. math:: Q(s, a) = \\sum_{(p, s', r, d) \\in P[s][a]} p \\,
              \\big(r + \\gamma (1 - d) V(s')\\big)

    With ``V = V*`` this gives ``Q*``, and ``max_a Q*(s, a) = V*(s)``.
    """
    import numpy as np

    for name, P, V, gamma in _bellman_cases():
        n_states, n_actions = len(P), len(P[0])
        V_before = V.copy()
        got = call_learner(fn, P, V, gamma)
        if not np.array_equal(V, V_before):
            fail(f"on {name}: your function changed V in place; compute Q without writing into V")
        got_arr = _as_array(got, name, "an array of shape (n_states, n_actions)")
        if got_arr.shape != (n_states, n_actions):
            fail(f"on {name}: Q must have shape (n_states, n_actions) = "
                 f"({n_states}, {n_actions}), got {got_arr.shape}")
        reference = _q_from_v_reference(P, V, gamma)
        bad = np.argwhere(~np.isclose(got_arr, reference, rtol=RTOL, atol=ATOL))
        if bad.size:
            s, a = (int(i) for i in bad[0])
            fail(f"on {name}, Q[{s}, {a}] is off: {_diagnose_bellman(got_arr, P, V, gamma, None)}")
    passed("Q(s, a) from V matches on 4 MDPs (FrozenLake with gamma 0.99 and 1, a toy MDP, "
           "CliffWalking), terminal transitions included.")


def _value_iteration_reference(P: dict, gamma: float, n_sweeps: int,
                               mistake: str | None = None) -> tuple[Any, Any]:
    """``n_sweeps`` synchronous sweeps ``V <- max_a Q(V)`` from ``V = 0``, then ``Q(V)``;
    ``mistake`` reproduces typical errors."""
    import numpy as np

    mask = mistake != "no_mask"
    V = np.zeros(len(P))
    sweeps = {"one_less": n_sweeps - 1, "one_more": n_sweeps + 1}.get(mistake, n_sweeps)
    for _ in range(sweeps):
        if mistake == "in_place":  # Gauss-Seidel: later states see this sweep's new values
            for s in range(len(P)):
                V[s] = _q_from_v_reference({0: P[s]}, V, gamma, mask)[0].max()
        else:
            V = _q_from_v_reference(P, V, gamma, mask).max(axis=1)
    V_for_q = V
    if mistake == "q_before_last":
        V_for_q = _value_iteration_reference(P, gamma, n_sweeps - 1)[0]
    return V, _q_from_v_reference(P, V_for_q, gamma, mask)


@_leaves_random_state_alone
def check_value_iteration(fn: Callable[..., Any]) -> None:
    """Check ``fn(P, gamma, n_sweeps) -> (V, Q)``: value iteration built from the backups.

    Starting from ``V = 0``, ``n_sweeps`` synchronous sweeps (every new value computed
    from the previous ``V``) of the Bellman optimality backup, then the one-step
    look-ahead ``Q`` of the final ``V``; ``V`` has shape ``(S,)`` and ``Q`` ``(S, A)``.
    After enough sweeps on FrozenLake this is ``V*`` and ``Q*`` of
    ``helpers.tabular.value_iteration``.
    """
    import gymnasium as gym
    import numpy as np

    from helpers.tabular import value_iteration

    cases = _bellman_cases()
    toy, cliff = cases[2][1], cases[3][1]
    frozen_env = gym.make("FrozenLake-v1", is_slippery=True)
    frozen = frozen_env.unwrapped.P
    runs = [
        ("a two-state toy MDP, gamma = 0.9, 3 sweeps", toy, 0.9, 3),
        ("slippery FrozenLake 4x4, gamma = 1, 1 sweep", frozen, 1.0, 1),
        ("CliffWalking, gamma = 0.9, 4 sweeps", cliff, 0.9, 4),
        ("slippery FrozenLake 4x4, gamma = 0.99, 1000 sweeps (converged)", frozen, 0.99, 1000),
    ]
    hints = {
        "q_before_last": "compute Q from the final V, after the last sweep",
        "in_place": "sweep synchronously: compute all the new values from the previous V "
                    "into a new array, then replace V (writing into V during a sweep lets "
                    "later states see values of the same sweep)",
        "one_less": "do exactly n_sweeps sweeps",
        "one_more": "do exactly n_sweeps sweeps",
        "no_mask": "a transition with terminated=True adds nothing after its reward",
    }
    for name, P, gamma, n_sweeps in runs:
        n_states, n_actions = len(P), len(P[0])
        got = call_learner(fn, P, gamma, n_sweeps)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"on {name}: return the pair (V, Q), got {type(got).__name__}")
        V = _as_array(got[0], name, "V as an array of shape (n_states,)")
        Q = _as_array(got[1], name, "Q as an array of shape (n_states, n_actions)")
        if V.shape == (n_states, n_actions) and Q.shape == (n_states,):
            fail(f"on {name}: return V first, then Q")
        if V.shape != (n_states,) or Q.shape != (n_states, n_actions):
            fail(f"on {name}: V must have shape ({n_states},) and Q ({n_states}, {n_actions}), "
                 f"got {V.shape} and {Q.shape}; size the arrays from P, not from the lesson's "
                 "FrozenLake")
        V_ref, Q_ref = _value_iteration_reference(P, gamma, n_sweeps)
        for what, got_x, ref_x in (("V", V, V_ref), ("Q", Q, Q_ref)):
            if np.allclose(got_x, ref_x, rtol=RTOL, atol=ATOL):
                continue
            for mistake, hint in hints.items():
                wrong = _value_iteration_reference(P, gamma, n_sweeps, mistake)
                wrong_x = wrong[0] if what == "V" else wrong[1]
                if not np.allclose(wrong_x, ref_x) and np.allclose(got_x, wrong_x, rtol=RTOL,
                                                                    atol=ATOL):
                    fail(f"on {name}: {what} is off: {hint}")
            fail(f"on {name}: {what} is off. Start from V = 0, apply the backup to every state "
                 "n_sweeps times, then compute Q from the final V")
    v_star, q_star = value_iteration(frozen_env, 0.99)
    if not (np.allclose(V, v_star, atol=1e-8) and np.allclose(Q, q_star, atol=1e-8)):
        fail("after 1000 sweeps on FrozenLake your V and Q should equal V* and Q* of "
             "helpers.tabular.value_iteration")
    passed("value iteration from your backups matches on 4 runs (1 to 4 sweeps on a toy MDP, "
           "FrozenLake and CliffWalking, and 1000 sweeps that reproduce "
           "helpers.tabular.value_iteration's V* and Q* on FrozenLake).")


# --- Lesson 02: tabular Q-learning ----------------------------------------------------------

__all__ += ["check_q_learning_update", "check_epsilon_greedy", "check_q_learning_run",
            "RUN_SEEDS", "RUN_MARGIN"]


def _q_update_reference(Q: Any, state: int, action: int, reward: float, next_state: int,
                        terminated: bool, alpha: float, gamma: float,
                        bootstrap: str = "max", mask_terminal: bool = True) -> float:
    """The Q-learning update of one transition, in place; returns the TD error.
    ``bootstrap="same_action"`` and ``mask_terminal=False`` reproduce typical mistakes."""
    if terminated and mask_terminal:
        td_target = reward
    elif bootstrap == "max":
        td_target = reward + gamma * Q[next_state].max()
    else:
        td_target = reward + gamma * Q[next_state, action]
    td_error = td_target - Q[state, action]
    Q[state, action] += alpha * td_error
    return float(td_error)


def _q_update_cases() -> list[tuple[str, Any, tuple]]:
    """``(name, Q, (state, action, reward, next_state, terminated, alpha, gamma))``."""
    import numpy as np

    rng = np.random.default_rng(2)
    Q = rng.uniform(-1.0, 1.0, size=(5, 3))
    Q[3] = [0.2, 1.5, -0.4]                       # next state with a clear best action
    cliff_like = rng.uniform(-20.0, -5.0, size=(4, 4))
    worked = np.array([[0.5, 0.0, 0.0, 0.0], [0.2, 0.6, 0.4, 0.1]])  # lesson 02, section 2
    return [
        ("the lesson's worked example (Q(0, 0) = 0.5, r = 0, s' = 1, alpha = 0.1, "
         "gamma = 0.99; TD error 0.094)", worked, (0, 0, 0.0, 1, False, 0.1, 0.99)),
        ("the lesson's fall into a hole (the same step, terminated; new Q(0, 0) = 0.45)",
         worked, (0, 0, 0.0, 1, True, 0.1, 0.99)),
        ("a non-terminal step (s=1, a=2, r=1, s'=3, alpha=0.1, gamma=0.9)",
         Q, (1, 2, 1.0, 3, False, 0.1, 0.9)),
        ("a terminal step (terminated=True, s'=3 has large values)",
         Q, (0, 0, 1.0, 3, True, 0.5, 0.9)),
        ("a step back into the same state (s = s' = 4)",
         Q, (4, 1, 0.0, 4, False, 0.3, 0.99)),
        ("alpha = 1, gamma = 1", Q, (2, 0, -0.5, 3, False, 1.0, 1.0)),
        ("negative rewards as in CliffWalking (r=-1, alpha=0.5, gamma=1)",
         cliff_like, (1, 3, -1.0, 2, False, 0.5, 1.0)),
        ("falling off the cliff (r=-100, not terminal)",
         cliff_like, (2, 1, -100.0, 0, False, 0.5, 1.0)),
    ]


def _diagnose_q_update(Q_before: Any, got_Q: Any, args: tuple) -> str:
    """A hint for the typical mistakes, recognised by reproducing them."""
    import numpy as np

    state, action, reward, next_state, terminated, alpha, gamma = args
    s, a = state, action
    variants = [
        (dict(mask_terminal=False),
         "after a terminal transition nothing follows: the TD target is just the reward"),
        (dict(bootstrap="same_action"),
         "Q-learning's target uses the *best* action in the next state, max_a' Q(s', a'), "
         "not the action just taken"),
    ]
    for kwargs, hint in variants:
        Q = Q_before.copy()
        _q_update_reference(Q, *args, **kwargs)
        if np.isclose(got_Q[s, a], Q[s, a], rtol=RTOL, atol=ATOL):
            return hint
    Q = Q_before.copy()
    _q_update_reference(Q, *args)
    td_target = Q_before[s, a] + (Q[s, a] - Q_before[s, a]) / alpha
    if alpha != 1.0 and np.isclose(got_Q[s, a], td_target, rtol=RTOL, atol=ATOL):
        return "move Q(s, a) only a step of size alpha towards the TD target, not all the way"
    if np.isclose(got_Q[s, a], 2 * Q_before[s, a] - Q[s, a], rtol=RTOL, atol=ATOL):
        return "the TD error is target minus estimate: td_target - Q[s, a] (check the sign)"
    Q = Q_before.copy()
    _q_update_reference(Q, *args[:-1], 1.0)
    if gamma != 1.0 and np.isclose(got_Q[s, a], Q[s, a], rtol=RTOL, atol=ATOL):
        return "discount the next state's value by gamma"
    return ("build it in three steps as in the update rule: the TD target from the reward and "
            "the next state, the TD error, then a step of size alpha")


@_leaves_random_state_alone
def check_q_learning_update(fn: Callable[..., Any]) -> None:
    """Check ``fn(Q, state, action, reward, next_state, terminated, alpha, gamma)``.

    It must apply the Q-learning update of one transition to ``Q`` **in place** and
    return the TD error:

    .. math::
        \\delta = r + \\gamma \\max_{a'} Q(s', a') - Q(s, a) \\;(\\text{just } r - Q(s, a)
        \\text{ if terminated}), \\qquad Q(s, a) \\leftarrow Q(s, a) + \\alpha \\delta
    """
    import numpy as np

    for name, Q_case, args in _q_update_cases():
        state, action = args[0], args[1]
        Q_before = Q_case.copy()
        Q = Q_case.copy()
        got = call_learner(fn, Q, *args)
        expected_Q = Q_before.copy()
        expected_error = _q_update_reference(expected_Q, *args)
        if np.array_equal(Q, Q_before):
            fail(f"on {name}: Q did not change. Update the table in place, "
                 "Q[state, action] += ..., do not build a new one")
        changed = np.argwhere(Q != Q_before)
        if any((int(i), int(j)) != (state, action) for i, j in changed):
            fail(f"on {name}: entries other than Q[state, action] changed; "
                 "the update touches exactly one entry")
        if not np.isclose(Q[state, action], expected_Q[state, action], rtol=RTOL, atol=ATOL):
            fail(f"on {name}: Q[state, action] is off: {_diagnose_q_update(Q_before, Q, args)}")
        if got is None:
            fail(f"on {name}: the table is right, now return the TD error as well")
        try:
            got_error = float(np.asarray(got, dtype=float).reshape(()))
        except (TypeError, ValueError):
            fail(f"on {name}: return the TD error, a single number")
        if not np.isclose(got_error, expected_error, rtol=RTOL, atol=ATOL):
            fail(f"on {name}: the table is right but the returned number is not the TD error "
                 "(td_target - Q[state, action], measured *before* the update)")
    passed("the Q-learning update matches on 8 transitions: the lesson's two worked examples, "
           "ordinary, terminal, a self-loop, alpha = gamma = 1, and CliffWalking-like rewards.")


@_leaves_random_state_alone
def check_epsilon_greedy(fn: Callable[..., Any]) -> None:
    """Check ``fn(q_values, epsilon, rng) -> action``: an epsilon-greedy choice.

    With probability ``epsilon`` a uniformly random action among *all* the row's actions,
    otherwise a greedy one, ties (exactly equal values) broken uniformly at random; all
    randomness from ``rng``. So the greedy action of a row with a unique maximum is chosen
    with probability ``1 - epsilon + epsilon / n_actions``. Rows of 2 to 6 actions are
    used, and near-ties that differ by as little as 1e-9 (they are not ties). Frequencies
    are compared over thousands of calls with a tolerance of five standard errors, so a
    correct function fails by bad luck with a probability of about 1e-5.
    """
    import numpy as np

    def frequencies(q_values: list[float], epsilon: float, n: int, seed: int) -> Any:
        rng = np.random.default_rng(seed)
        q = np.array(q_values, dtype=float)
        counts = np.zeros(q.size)
        for _ in range(n):
            action = call_learner(fn, q, epsilon, rng)
            if not isinstance(action, (int, np.integer)) or isinstance(action, bool):
                fail(f"return the action as an integer index, got {action!r} "
                     f"({type(action).__name__})")
            if not 0 <= action < q.size:
                fail(f"with q_values = {q_values} ({q.size} actions) the action must be in "
                     f"0..{q.size - 1}, got {action}: draw random actions among the row's own "
                     "actions, not a fixed number of them")
            counts[action] += 1
        if not np.array_equal(q, np.array(q_values, dtype=float)):
            fail("your function changed q_values; only read them")
        return counts / n

    def off(freq: Any, p: Any, n: int) -> bool:
        """Is any frequency more than five standard errors from its probability?"""
        p = np.asarray(p, dtype=float)
        return bool(np.any(np.abs(freq - p) > 5 * np.sqrt(p * (1 - p) / n) + 1e-12))

    # epsilon = 0 and a unique best action: always that action, even by a hair.
    for q_values, n in (([0.1, 0.5, -0.2, 0.3], 50), ([-3.0, -1.0, -2.0], 50),
                        ([2.0, 1.0], 50), ([0.0, 0.0, 7.0, 0.0, 0.0, 0.0], 50),
                        ([0.5, 0.5004], 300), ([0.3, 0.3 + 1e-6, 0.3, 0.3, 0.3], 300),
                        ([1e-9, 0.0, 0.0], 300)):
        freq = frequencies(q_values, 0.0, n, seed=0)
        if freq[int(np.argmax(q_values))] != 1.0:
            near = np.sort(q_values)[-1] - np.sort(q_values)[-2] < 1e-3
            fail(f"with epsilon = 0 and q_values = {q_values} always take the greedy action"
                 + ("; it is the only maximum, however small the gap: only exactly equal "
                    "values tie (added noise or a tolerance picks worse actions)" if near else ""))
    # The same seed must give the same choices: all randomness from rng.
    first = [call_learner(fn, np.zeros(4), 0.5, rng) for rng in [np.random.default_rng(7)] * 30]
    again = [call_learner(fn, np.zeros(4), 0.5, rng) for rng in [np.random.default_rng(7)] * 30]
    if first != again:
        fail("two generators with the same seed gave different actions: draw every random "
             "number from the rng argument (not from np.random or random)")
    other = [call_learner(fn, np.zeros(4), 0.5, rng) for rng in [np.random.default_rng(8)] * 30]
    if other == first:
        fail("generators with different seeds gave exactly the same 30 actions: draw every "
             "random number from the rng argument, do not make a new generator in each call")
    n = 4000
    # Ties: an all-zero row (every fresh Q table) must not always give the same action.
    for q_values, seed in (([0.0, 0.0, 0.0, 0.0], 1), ([0.0, 0.0], 9)):
        freq = frequencies(q_values, 0.0, n, seed=seed)
        if off(freq, 1 / len(q_values), n):
            fail(f"with q_values = {q_values} and epsilon = 0 your actions had frequencies "
                 f"{np.round(freq, 3).tolist()}; when several actions tie for the best, choose "
                 "among them at random, or a fresh agent always walks the same way")
    freq = frequencies([1.0, 3.0, 3.0, 0.0], 0.0, n, seed=2)
    if freq[0] > 0 or freq[3] > 0 or off(freq[1], 0.5, n):
        fail(f"with q_values = [1, 3, 3, 0] and epsilon = 0 your actions had frequencies "
             f"{np.round(freq, 3).tolist()}; pick uniformly among the tied best actions only")
    # epsilon = 1: uniform over all actions, the greedy one included, for 4, 2 and 6 actions.
    for q_values, seed in (([0.0, 1.0, 0.0, 0.0], 3), ([5.0, -1.0], 10),
                           ([0.0, 0.0, 0.0, 2.0, 0.0, -1.0], 11)):
        freq = frequencies(q_values, 1.0, n, seed=seed)
        if off(freq, 1 / len(q_values), n):
            greedy = int(np.argmax(q_values))
            if freq.max() == 1.0:
                hint = (": you returned the same action every time -- draw from the rng "
                        "argument, do not make a new generator in each call")
            elif freq[greedy] < 0.5 / len(q_values):
                hint = ": exploration picks uniformly among *all* actions, the greedy one included"
            else:
                hint = f": explore among all {len(q_values)} actions of this row"
            fail(f"with epsilon = 1 every action should be equally likely; your frequencies for "
                 f"q_values = {q_values} were {np.round(freq, 3).tolist()}{hint}")
    # epsilon = 0.5: greedy with probability 1 - 0.5 + 0.5 / n_actions.
    for q_values, seed in (([0.0, 1.0, 0.0, 0.0], 4), ([0.0, 0.0, 0.0, 0.0, 3.0, 0.0], 12)):
        k = len(q_values)
        p_greedy = 1 - 0.5 + 0.5 / k
        freq = frequencies(q_values, 0.5, n, seed=seed)
        greedy = int(np.argmax(q_values))
        if off(freq[greedy], p_greedy, n) or off(freq, [p_greedy if a == greedy else 0.5 / k
                                                        for a in range(k)], n):
            hint = ("exploration picks uniformly among *all* actions, the greedy one included"
                    if not off(freq[greedy], 0.5, n) else
                    "explore with probability epsilon, exploit with probability 1 - epsilon")
            fail(f"with epsilon = 0.5 and {k} actions the greedy action should have probability "
                 f"1 - 0.5 + 0.5/{k} = {p_greedy:.3f}, yours had {freq[greedy]:.3f} (all "
                 f"frequencies {np.round(freq, 3).tolist()}): {hint}")
    passed("greedy at epsilon = 0 (near-ties included), random tie-breaking, uniform at "
           "epsilon = 1 and P(greedy) = 1 - epsilon + epsilon/|A| at epsilon = 0.5, on rows "
           "of 2, 4 and 6 actions, all randomness from rng.")


# How a learning run is judged: the median, over 5 seeds, of the exact 100-step success
# rate of the learned greedy policy must be within RUN_MARGIN of the optimal policy's.
# One run of a correct agent ends more than 0.1 below the optimum in about 8 % of the runs
# (and in about 1 in 2,000 with success 0: its greedy policy loops in the safe region), so
# one run cannot be judged; this rule fails a correct agent with probability about 6e-5
# (tools/run_check_false_failures.py measures it).
RUN_SEEDS, RUN_MARGIN = 5, 0.2


@_leaves_random_state_alone
def check_q_learning_run(train: Callable[[int], Any]) -> None:
    """Check ``train(seed) -> Q``: Q-learning with the learner's functions learns FrozenLake.

    ``train(seed)`` must run the lesson's training loop on the slippery 4x4 FrozenLake
    (``env.reset(seed=seed)`` for the first episode, the agent's random numbers from a
    generator seeded with ``seed``) and return the learned table, shape ``(16, 4)``. Each
    run is judged by the exact success rate of its greedy policy within the 100-step
    limit (:func:`helpers.tabular.finite_horizon_evaluation`), against the optimal
    policy's 0.740.

    One run is not enough: a correct agent's final greedy policy is noisy (constant
    alpha), and about one run in 12 misses ``optimal - 0.1``. So the check runs seeds 0-4
    and requires the *median* success to be at least ``optimal - RUN_MARGIN`` (it stops as
    soon as three runs settle it). Measured with ``tools/run_check_false_failures.py`` on
    9,492 runs of correct agents (a vectorised simulation, ``helpers.tabular.q_learning``,
    and the notebook's loop with three epsilon-greedy functions that draw their random
    numbers in different orders), one run ends below ``optimal - 0.2`` with probability
    p = 0.018 (95 % upper bound 0.021), so a correct agent fails the rule, three or more
    of five independent runs below it, with probability about 6e-5 (at most 1e-4). Agents
    that do not learn (greedy success near 0.0-0.3) fail it.
    """
    import gymnasium as gym
    import numpy as np

    from helpers.tabular import finite_horizon_evaluation, greedy_policy, value_iteration

    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
    _, q_star = value_iteration(env, 0.99)
    optimal = finite_horizon_evaluation(env, greedy_policy(q_star), 100)[0]
    floor = optimal - RUN_MARGIN
    need = RUN_SEEDS // 2 + 1
    successes: list[float] = []
    for seed in range(RUN_SEEDS):
        case = f"the run with seed {seed}"
        Q = _as_array(call_learner(train, seed), case, "the learned Q table, shape (16, 4)")
        if Q.shape != (16, 4):
            fail(f"{case}: return the learned table of shape (n_states, n_actions) = (16, 4), "
                 f"got shape {Q.shape}")
        if not np.all(np.isfinite(Q)):
            fail(f"{case}: the learned table holds nan or inf values; check the update")
        if not Q.any():
            fail(f"{case}: the table is still all zeros after 3,000 episodes: the update must "
                 "write into the table the loop passes it (in place)")
        if Q.max() > 1.0 + 1e-9 or Q.min() < -1e-9:
            fail(f"{case}: learned values should lie between 0 and 1 (every reward is 0 or 1, "
                 f"so is every return), yours span {Q.min():.3g} to {Q.max():.3g}; check the "
                 "update in the loop")
        successes.append(float(finite_horizon_evaluation(env, greedy_policy(Q), 100)[0]))
        good = sum(x >= floor for x in successes)
        if good >= need:
            passed(f"your agent's greedy policies reach the goal with probability "
                   f"{', '.join(f'{x:.3f}' for x in successes)} on seeds 0-{seed} (optimal "
                   f"{optimal:.3f}): a median of {RUN_SEEDS} seeds of at least "
                   f"{floor:.2f} is settled.")
            return
        if len(successes) - good >= need:
            fail(f"the greedy policies learned with seeds 0-{seed} reach the goal with "
                 f"probability {', '.join(f'{x:.3f}' for x in successes)}; a correct agent "
                 f"reaches about {optimal:.2f} in most runs and a median of at least "
                 f"{floor:.2f} over {RUN_SEEDS} seeds. Your functions pass their checks step "
                 "by step, so look at the loop: one update after every step, the next state "
                 "becomes the state, the episode ends on terminated or truncated, and epsilon "
                 "follows the schedule")


# --- Lesson 06: the full DQN on CartPole ----------------------------------------------------

__all__ += ["check_select_action"]


@_leaves_random_state_alone
def check_select_action(fn: Callable[..., Any]) -> None:
    """Check ``fn(policy_net, state, epsilon, rng) -> action``: epsilon-greedy over a Q-network.

    ``state`` is a float32 tensor of shape ``(n_observations,)`` and ``policy_net(state)``
    has shape ``(n_actions,)``. With probability ``epsilon`` the action is uniform over
    *all* actions, otherwise ``argmax_a Q(state, a)``; all randomness comes from the NumPy
    generator ``rng``, and the forward pass runs without gradient tracking. The action is
    a plain integer (what ``env.step`` takes). So

    .. math:: P(a = \\arg\\max_{a'} Q(s, a')) = 1 - \\epsilon + \\epsilon / |\\mathcal{A}|.

    Frequencies are compared over thousands of seeded calls with a tolerance of about five
    standard errors, so a correct function never fails by bad luck.
    """
    import numpy as np
    import torch
    import torch.nn as nn

    class _Recorder(nn.Module):
        """Wraps a Q-network; remembers whether gradients were tracked during forward."""

        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net
            self.grad_tracked = False

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.grad_tracked |= torch.is_grad_enabled()
            return self.net(x)

    def make_net(n_observations: int, n_actions: int, seed: int) -> _Recorder:
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(n_observations, 16), nn.ReLU(),
                            nn.Linear(16, n_actions))
        return _Recorder(net)

    def act(net: _Recorder, state: torch.Tensor, epsilon: float, rng: Any, case: str) -> int:
        n_actions = net.net[-1].out_features
        state_before = state.clone()
        weights_before = [p.detach().clone() for p in net.parameters()]
        action = call_learner(fn, net, state, epsilon, rng)
        if isinstance(action, torch.Tensor):
            fail(f"{case}: you returned a tensor of shape {tuple(action.shape)}; return the "
                 "action as a plain Python integer, the kind env.step(action) takes")
        if not isinstance(action, (int, np.integer)) or isinstance(action, bool):
            fail(f"{case}: return the action as an integer index, got {action!r} "
                 f"({type(action).__name__})")
        if not 0 <= action < n_actions:
            fail(f"{case}: with {n_actions} actions the action must be in "
                 f"0..{n_actions - 1}, got {action}")
        if not torch.equal(state, state_before):
            fail(f"{case}: your function changed the state tensor; only read it")
        if any(not torch.equal(p, w) for p, w in zip(net.parameters(), weights_before,
                                                     strict=True)):
            fail(f"{case}: your function changed the network's weights; acting only reads them")
        return int(action)

    def frequencies(net: _Recorder, states: torch.Tensor, epsilon: float, seed: int,
                    case: str) -> Any:
        rng = np.random.default_rng(seed)
        n_actions = net.net[-1].out_features
        counts = np.zeros(n_actions)
        for state in states:
            counts[act(net, state, epsilon, rng, case)] += 1
        return counts / len(states)

    data_rng = np.random.default_rng(0)
    # epsilon = 0: always the action with the largest Q-value, on many states of two networks.
    for n_observations, n_actions, seed in ((4, 2, 0), (6, 3, 1), (3, 5, 2)):
        net = make_net(n_observations, n_actions, seed)
        states = torch.as_tensor(data_rng.normal(size=(40, n_observations)), dtype=torch.float32)
        with torch.no_grad():
            greedy = net.net(states).argmax(dim=1)  # (40,)
        rng = np.random.default_rng(seed)
        case = f"with epsilon = 0 and a network with {n_actions} actions"
        for i, state in enumerate(states):
            action = act(net, state, 0.0, rng, case)
            if action != int(greedy[i]):
                fail(f"{case}: on state {np.round(state.numpy(), 2).tolist()} you chose action "
                     f"{action}; with epsilon = 0 take the action with the largest Q-value")
        if net.grad_tracked:
            fail("the forward pass tracked gradients: choosing an action needs no gradients, "
                 "so compute Q(s, .) inside `with torch.no_grad():` (faster, and no graph is "
                 "kept alive)")

    # The same seed must give the same choices: all randomness from rng.
    net = make_net(4, 3, 3)
    state = torch.zeros(4)
    first = [act(net, state, 0.5, rng, "with epsilon = 0.5")
             for rng in [np.random.default_rng(7)] * 40]
    again = [act(net, state, 0.5, rng, "with epsilon = 0.5")
             for rng in [np.random.default_rng(7)] * 40]
    if first != again:
        fail("two generators with the same seed gave different actions: draw every random "
             "number from the rng argument (not from np.random, random, torch or the "
             "environment's action space)")

    n = 3000
    # epsilon = 1: uniform over all actions, the greedy one included, for 3 actions.
    net = make_net(4, 3, 4)
    states = torch.as_tensor(data_rng.normal(size=(n, 4)), dtype=torch.float32)
    freq = frequencies(net, states, 1.0, seed=5, case="with epsilon = 1")
    if np.any(np.abs(freq - 1 / 3) > 0.045):
        fail(f"with epsilon = 1 and 3 actions every action should be equally likely; your "
             f"frequencies were {np.round(freq, 3).tolist()}. Draw the random action "
             "uniformly from *all* the network's actions (how many are there? look at the "
             "shape of the network's output)")
    # epsilon = 0.5 on one fixed state: greedy with probability 1 - 0.5 + 0.5 / 2 = 0.75.
    net = make_net(4, 2, 6)
    state = torch.as_tensor(data_rng.normal(size=4), dtype=torch.float32)
    with torch.no_grad():
        greedy = int(net.net(state).argmax())
    freq = frequencies(net, state.expand(n, 4), 0.5, seed=8, case="with epsilon = 0.5")
    if abs(freq[greedy] - 0.75) > 0.04:
        hint = ("exploration picks uniformly among *all* actions, the greedy one included"
                if abs(freq[greedy] - 0.5) < 0.04 else
                "explore with probability epsilon, exploit with probability 1 - epsilon")
        fail(f"with epsilon = 0.5 and 2 actions the greedy action should have probability "
             f"1 - 0.5 + 0.5/2 = 0.75, yours had {freq[greedy]:.3f}: {hint}")
    passed("greedy at epsilon = 0 on 120 states of three networks (no gradients tracked), "
           "uniform over 3 actions at epsilon = 1, P(greedy) = 0.75 at epsilon = 0.5 with "
           "2 actions, an int every time, all randomness from rng.")


# --- Lesson 03: Q-networks ------------------------------------------------------------------
#
# Batches are torch tensors: ``q_values`` of shape ``(B, n_actions)``, ``actions`` of shape
# ``(B,)`` (int64), ``rewards`` and ``terminated`` of shape ``(B,)`` (float32, terminated is
# 0.0 or 1.0), as in ``helpers.dqn.Batch``.

__all__ += ["check_td_targets", "check_gather_q", "check_dqn_loss"]

# Mistakes with the terminal mask, shared by every check of a TD target: (name, hint).
_MASK_MISTAKES = [
    ("no_mask", "a terminated transition has no next state worth anything: multiply the "
                "bootstrapped value by (1 - terminated)"),
    ("inverted_mask", "the mask is the wrong way round: bootstrap where terminated is 0, "
                      "not where it is 1"),
    ("zero_target", "a terminated transition still earns its reward: only the "
                    "bootstrapped part is masked"),
]


def _td_cases() -> list[tuple[str, Any, Any, Any, float]]:
    """``(name, rewards, next_q_values, terminated, gamma)`` for :func:`check_td_targets`."""
    import torch

    generator = torch.Generator().manual_seed(3)

    def uniform(*shape: int, low: float = -2.0, high: float = 2.0) -> Any:
        return low + (high - low) * torch.rand(*shape, generator=generator)

    mixed = torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    return [
        ("a batch of 6 with 2 terminated transitions, gamma=0.99",
         torch.ones(6), uniform(6, 2, low=0.0, high=100.0), mixed, 0.99),
        ("negative next Q-values (the max is not the largest |Q|), gamma=0.9",
         uniform(6), torch.tensor([[-3.0, -1.0], [-0.5, -2.0], [-4.0, -4.5], [-1.0, -7.0],
                                   [-2.0, -0.1], [-6.0, -5.0]]), mixed, 0.9),
        ("3 actions, no transition terminated, gamma=0.5",
         uniform(5), uniform(5, 3), torch.zeros(5), 0.5),
        ("every transition terminated, gamma=0.99",
         uniform(4), uniform(4, 2, low=10.0, high=50.0), torch.ones(4), 0.99),
        ("a batch of one, not terminated, gamma=1",
         torch.tensor([1.0]), torch.tensor([[2.0, 5.0]]), torch.zeros(1), 1.0),
        ("gamma=0 (the target is just the reward)",
         uniform(4), uniform(4, 2), torch.tensor([0.0, 1.0, 0.0, 1.0]), 0.0),
    ]


def _td_reference(rewards: Any, next_q_values: Any, terminated: Any, gamma: float,
                  mistake: str | None = None) -> Any:
    """``r + gamma (1 - terminated) max_a' Q(s', a')``; ``mistake`` reproduces typical errors."""
    if mistake == "mean":
        next_value = next_q_values.mean(dim=1)
    elif mistake == "global_max":
        next_value = next_q_values.max().expand(next_q_values.shape[0])
    elif mistake == "first_action":
        next_value = next_q_values[:, 0]
    else:
        next_value = next_q_values.max(dim=1).values
    if mistake == "no_mask":
        return rewards + gamma * next_value
    if mistake == "inverted_mask":
        return rewards + gamma * terminated * next_value
    if mistake == "no_gamma":
        return rewards + (1.0 - terminated) * next_value
    if mistake == "zero_target":
        return (1.0 - terminated) * (rewards + gamma * next_value)
    return rewards + gamma * (1.0 - terminated) * next_value


@_leaves_random_state_alone
def check_td_targets(fn: Callable[..., Any]) -> None:
    """Check ``fn(rewards, next_q_values, terminated, gamma) -> td_target`` for a batch.

    .. math:: y_i = r_i + \\gamma \\, (1 - d_i) \\max_{a'} Q(s'_i, a')

    with ``rewards`` and ``terminated`` (0.0/1.0) of shape ``(B,)``, ``next_q_values`` of
    shape ``(B, n_actions)``; the result must have shape ``(B,)``. The inputs must not be
    modified.
    """
    import torch

    mistakes = [
        *_MASK_MISTAKES,
        ("mean", "bootstrap from the *best* next action, the max over dim 1, not the average"),
        ("global_max", "take the max over the actions of each next state (dim 1), not over "
                       "the whole batch"),
        ("first_action", "bootstrap from the best next action, the max over the action "
                         "dimension (dim 1)"),
        ("no_gamma", "discount the next state's value by gamma"),
    ]
    for name, rewards, next_q_values, terminated, gamma in _td_cases():
        got = _call_on_tensors(name, fn, rewards, next_q_values, terminated, gamma)
        batch_size = rewards.shape[0]
        if tuple(got.shape) != (batch_size,):
            hint = (" -- a (B, 1) max added to a (B,) reward broadcasts to (B, B); take the max "
                    "without keepdim" if got.dim() == 2 else "")
            fail(f"on {name}: the targets must have shape ({batch_size},), one per "
                 f"transition, got {tuple(got.shape)}{hint}")
        expected = _td_reference(rewards, next_q_values, terminated, gamma)
        if torch.allclose(got.float(), expected, rtol=1e-5, atol=1e-5):
            continue
        for mistake, hint in mistakes:
            wrong = _td_reference(rewards, next_q_values, terminated, gamma, mistake)
            if not torch.allclose(wrong, expected) and torch.allclose(got.float(), wrong,
                                                                      rtol=1e-5, atol=1e-5):
                fail(f"on {name}: {hint}")
        fail(f"on {name}: the targets are off. Build them as reward + gamma * (1 - terminated) "
             "* (the max over actions of next_q_values)")
    passed("TD targets match on 6 batches: mixed and all-terminal batches, negative "
           "Q-values, 3 actions, a batch of one, gamma = 0 and gamma = 1.")


def _gather_cases() -> list[tuple[str, Any, Any]]:
    """``(name, q_values, actions)`` for :func:`check_gather_q`."""
    import torch

    generator = torch.Generator().manual_seed(4)
    return [
        ("a batch of 4 states with 4 actions each",
         torch.randn(4, 4, generator=generator), torch.tensor([3, 0, 2, 1])),
        ("a batch of 5 states, 2 actions",
         torch.randn(5, 2, generator=generator), torch.tensor([0, 1, 1, 0, 1])),
        ("a batch of 4 states, 3 actions",
         torch.randn(4, 3, generator=generator), torch.tensor([2, 0, 1, 2])),
        ("a batch where every action is 0",
         torch.randn(3, 2, generator=generator), torch.tensor([0, 0, 0])),
        ("a batch of one", torch.tensor([[1.5, -0.5]]), torch.tensor([1])),
    ]


@_leaves_random_state_alone
def check_gather_q(fn: Callable[..., Any]) -> None:
    """Check ``fn(q_values, actions) -> q_sa``: pick ``Q(s_i, a_i)`` from each row.

    .. math:: q_i = Q(s_i, a_i) = \\texttt{q\\_values}[i, a_i]

    ``q_values`` has shape ``(B, n_actions)``, ``actions`` shape ``(B,)`` (int64); the
    result has shape ``(B,)`` and must stay differentiable: the gradient of
    ``q_sa.sum()`` is 1 at each chosen entry and 0 elsewhere.
    """
    import torch

    for name, q_values, actions in _gather_cases():
        q_values = q_values.clone().requires_grad_(True)
        actions_before = actions.clone()
        got = call_learner(fn, q_values, actions)
        if not torch.equal(actions, actions_before):
            fail(f"on {name}: your function changed `actions` in place")
        if not isinstance(got, torch.Tensor):
            fail(f"on {name}: return a torch tensor, got {type(got).__name__}; keep the "
                 "result a tensor so the loss can backpropagate through it")
        batch_size = q_values.shape[0]
        if tuple(got.shape) != (batch_size,):
            hint = ""
            if tuple(got.shape) == (batch_size, 1):
                hint = ": gather keeps the dimension it indexes; remove it with squeeze(1)"
            elif got.shape == q_values.shape or tuple(got.shape) == (batch_size, batch_size):
                hint = (": indexing with q_values[:, actions] picks whole columns; pick one "
                        "entry per row")
            fail(f"on {name}: Q(s, a) has one value per transition, shape ({batch_size},), "
                 f"got {tuple(got.shape)}{hint}")
        expected = q_values.detach()[torch.arange(batch_size), actions]
        if not torch.allclose(got.detach().float(), expected):
            transposed = None
            if q_values.shape[0] == q_values.shape[1]:
                transposed = q_values.detach().gather(0, actions.unsqueeze(0)).squeeze(0)
            if transposed is not None and torch.allclose(got.detach().float(), transposed):
                fail(f"on {name}: you gathered along dim 0 (across states); the actions index "
                     "dim 1, the action dimension")
            fail(f"on {name}: entry i must be q_values[i, actions[i]], the value of the action "
                 "actually taken in state i")
        if not got.requires_grad:
            fail(f"on {name}: the values are right but carry no gradient; stay in torch (no "
                 ".item(), .numpy() or torch.no_grad()) so the loss can train the network")
        got.sum().backward()
        expected_grad = torch.zeros_like(q_values)
        expected_grad[torch.arange(batch_size), actions] = 1.0
        if q_values.grad is None or not torch.allclose(q_values.grad, expected_grad):
            fail(f"on {name}: the values are right but the gradient does not flow back to "
                 "exactly the chosen entries")
    passed("Q(s, a) gathered correctly on 5 batches (2, 3 and 4 actions, a batch of one), "
           "with the gradient flowing to exactly the chosen entries.")


def _dqn_loss_reference(policy_net: Any, target_net: Any, batch: Any, gamma: float,
                        mistake: str | None = None) -> Any:
    """The Huber loss of ``Q(s, a)`` against ``r + gamma (1 - d) max_a' Q_target(s', a')``
    (targets without gradient), like ``helpers.dqn.dqn_loss``; or a typical mistake."""
    import torch
    import torch.nn.functional as F

    q_sa = policy_net(batch.states).gather(1, batch.actions.unsqueeze(1)).squeeze(1)
    bootstrap_net = policy_net if mistake == "policy_targets" else target_net
    with torch.no_grad():
        next_states = batch.states if mistake == "current_states" else batch.next_states
        next_value = bootstrap_net(next_states).max(dim=1).values
        mask = torch.ones_like(batch.terminated) if mistake == "no_mask" else (
            1.0 - batch.terminated)
        g = 1.0 if mistake == "no_gamma" else gamma
        target = batch.rewards + g * mask * next_value
    if mistake == "mse":
        return F.mse_loss(q_sa, target)
    if mistake == "sum":
        return F.smooth_l1_loss(q_sa, target, reduction="sum")
    return F.smooth_l1_loss(q_sa, target)


@_leaves_random_state_alone
def check_dqn_loss(fn: Callable[..., Any]) -> None:
    """Check ``fn(policy_net, target_net, batch, gamma) -> loss``: the DQN loss of a batch.

    .. math:: L = \\frac{1}{B} \\sum_i \\mathrm{Huber}\\big(Q(s_i, a_i; \\theta) - y_i\\big),
              \\qquad y_i = r_i + \\gamma (1 - d_i) \\max_{a'} Q(s'_i, a'; \\theta^-)

    ``batch`` is a :class:`helpers.dqn.Batch`; the loss is a 0-d tensor equal to
    ``helpers.dqn.dqn_loss(policy_net, target_net, batch, gamma)[0]``, its gradient
    reaches ``policy_net`` only through ``Q(s, a)`` (the targets carry no gradient), and
    neither the networks nor the batch are changed.
    """
    import torch
    import torch.nn as nn

    from helpers.dqn import Batch

    generator = torch.Generator().manual_seed(5)

    def net(n_observations: int, n_actions: int, seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(n_observations, 16), nn.ReLU(),
                             nn.Linear(16, n_actions))

    def batch(size: int, n_observations: int, n_actions: int, reward_scale: float,
              terminated: list[float]) -> Any:
        return Batch(torch.randn(size, n_observations, generator=generator),
                     torch.randint(n_actions, (size,), generator=generator),
                     reward_scale * torch.randn(size, generator=generator),
                     torch.randn(size, n_observations, generator=generator),
                     torch.tensor(terminated))

    online4, target4 = net(4, 2, 0), net(4, 2, 1)
    online3, target3 = net(3, 3, 2), net(3, 3, 3)
    cases = [
        ("a batch of 8 with 3 terminated transitions, gamma = 0.99 (two networks)",
         online4, target4, batch(8, 4, 2, 0.3, [0, 1, 0, 0, 1, 0, 1, 0]), 0.99),
        ("3 actions, rewards large enough for TD errors above 1, gamma = 0.5",
         online3, target3, batch(6, 3, 3, 3.0, [0, 0, 1, 0, 0, 0]), 0.5),
        ("no target network (the same network passed twice, as in this lesson), gamma = 0.9",
         online4, online4, batch(5, 4, 2, 1.0, [0, 0, 0, 1, 0]), 0.9),
        ("a batch of one, terminated", online3, target3, batch(1, 3, 3, 1.0, [1.0]), 0.99),
    ]
    mistakes = [
        ("mse", "the DQN loss is the Huber loss (smooth L1) of the TD errors, not their square"),
        ("sum", "average the per-transition losses over the batch (the mean), do not sum them"),
        ("policy_targets", "the targets come from target_net, the network that lags behind"),
        ("current_states", "the targets bootstrap from the *next* states"),
        ("no_mask", "a terminated transition has no future value: mask it with "
                    "(1 - terminated)"),
        ("no_gamma", "discount the next state's value by gamma"),
    ]
    for name, policy_net, target_net, b, gamma in cases:
        nets = [policy_net] if policy_net is target_net else [policy_net, target_net]
        weights = [p.detach().clone() for n in nets for p in n.parameters()]
        fields = [t.clone() for t in b]
        for n in nets:
            n.zero_grad(set_to_none=True)
        got = call_learner(fn, policy_net, target_net, b, gamma)
        if any(not torch.equal(t, c) for t, c in zip(b, fields, strict=True)):
            fail(f"on {name}: your function changed the batch in place; only read it")
        if any(not torch.equal(p, w) for p, w in zip([p for n in nets for p in n.parameters()],
                                                     weights, strict=True)):
            fail(f"on {name}: your function changed the networks' weights; computing the "
                 "loss only reads them")
        if not isinstance(got, torch.Tensor):
            fail(f"on {name}: return the loss as a torch tensor, got {type(got).__name__}; "
                 "the optimizer needs loss.backward()")
        if got.dim() != 0:
            fail(f"on {name}: the loss is one number, a 0-d tensor, got shape "
                 f"{tuple(got.shape)}: average the per-transition losses over the batch")
        expected = _dqn_loss_reference(policy_net, target_net, b, gamma)
        if not torch.allclose(got.detach().float(), expected.detach(), rtol=RTOL, atol=ATOL):
            for mistake, hint in mistakes:
                wrong = _dqn_loss_reference(policy_net, target_net, b, gamma, mistake).detach()
                if (not torch.allclose(wrong, expected.detach(), rtol=RTOL, atol=ATOL)
                        and torch.allclose(got.detach().float(), wrong, rtol=RTOL, atol=ATOL)):
                    fail(f"on {name}: {hint}")
            fail(f"on {name}: the loss is off: it is the Huber loss between Q(s, a) of "
                 "policy_net and the TD targets of target_net, averaged over the batch")
        if not got.requires_grad:
            fail(f"on {name}: the loss has the right value but no gradient: Q(s, a) must "
                 "stay in the graph (no .item(), .detach() or torch.no_grad() around it)")
        got.backward()
        got_grads = [p.grad for p in policy_net.parameters()]
        target_grads = ([] if target_net is policy_net
                        else [p.grad for p in target_net.parameters()])
        policy_net.zero_grad(set_to_none=True)
        expected.backward()
        expected_grads = [p.grad for p in policy_net.parameters()]
        policy_net.zero_grad(set_to_none=True)
        leaked = any(g is not None and bool(g.any()) for g in target_grads)
        wrong_grad = any(g is None or not torch.allclose(g, e, rtol=1e-4, atol=1e-6)
                         for g, e in zip(got_grads, expected_grads, strict=True))
        if leaked or wrong_grad:
            fail(f"on {name}: the loss value is right but its gradient is not: compute the "
                 "TD targets without gradient (under torch.no_grad()), so that only Q(s, a) "
                 "is trained towards them")
    passed("the DQN loss matches helpers.dqn.dqn_loss, value and gradient, on 4 batches: two "
           "networks, TD errors above 1, no target network, a batch of one.")


# --- Lesson 04: experience replay -----------------------------------------------------------

__all__ += ["check_ring_buffer"]


def _transition(i: int, obs_dim: int) -> tuple[Any, int, float, Any, bool]:
    """Transition number ``i`` (from 1): every field encodes ``i``, so rows can be identified
    and their fields checked for alignment. ``state = [i, -i, 2i, ...]``, ``next_state =
    state + 1000``, ``action = i % 2``, ``reward = i``, ``terminated = (i % 3 == 0)``."""
    import numpy as np

    pattern = np.array([1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0])
    state = i * np.resize(pattern, obs_dim)
    return state, i % 2, float(i), state + 1000.0, i % 3 == 0


def _sample_ids(buffer: Any, batch_size: int, obs_dim: int, case: str) -> list[int]:
    """Call ``buffer.sample``, check shapes and that each row is one stored transition;
    return the ids of the sampled transitions."""
    import numpy as np

    out = call_learner(buffer.sample, batch_size)
    if not isinstance(out, (tuple, list)) or len(out) != 5:
        fail(f"{case}: sample must return a tuple of 5 arrays (states, actions, rewards, "
             f"next_states, terminated), got {type(out).__name__}")
    try:
        states, actions, rewards, next_states, terminated = (
            np.asarray(x, dtype=float) for x in out
        )
    except (TypeError, ValueError) as exc:
        fail(f"{case}: the 5 fields returned by sample must be arrays of numbers ({exc})")
    expected = {"states": (batch_size, obs_dim), "actions": (batch_size,),
                "rewards": (batch_size,), "next_states": (batch_size, obs_dim),
                "terminated": (batch_size,)}
    for name, got in zip(expected, (states, actions, rewards, next_states, terminated),
                         strict=True):
        if got.shape != expected[name]:
            fail(f"{case}: sample({batch_size}) returned {name} of shape {got.shape}, "
                 f"expected {expected[name]}")
    ids = [int(round(reward)) for reward in rewards]
    if min(ids) < 1:
        row = int(np.argmin(ids))
        fail(f"{case}: sample returned a row that was never pushed (reward {rewards[row]:g}"
             "): draw indices only among the rows already filled, not the whole capacity")
    # what each row must hold if it is transition ids[row] (all rows compared at once)
    wanted = [_transition(i, obs_dim) for i in ids]  # (state, action, reward, next, term)
    want_states, want_actions, _, want_next, want_term = (
        np.array(field, dtype=float) for field in zip(*wanted, strict=True))
    aligned = (np.isclose(states, want_states).all(axis=1)
               & np.isclose(next_states, want_next).all(axis=1)
               & (actions == want_actions) & (terminated == want_term))
    if not aligned.all():
        row = int(np.argmin(aligned))
        fail(f"{case}: in row {row} of a sampled batch the fields come from different "
             "transitions (or were stored in the wrong place): use one set of indices "
             "for all five fields, and write all five fields of a transition to the same row")
    return ids


@_leaves_random_state_alone
def check_ring_buffer(cls: Any) -> None:
    """Check a ring-buffer replay memory class.

    ``cls(capacity, obs_dim, rng)`` must provide ``push(state, action, reward, next_state,
    terminated)``, ``sample(batch_size) -> (states, actions, rewards, next_states,
    terminated)`` and ``len()``. Pushing writes row ``position`` and advances it modulo the
    capacity, so once full the oldest transition is overwritten; ``len`` is
    ``min(pushes, capacity)``. ``sample`` draws ``batch_size`` *distinct* stored rows
    uniformly at random with ``rng`` (every transition in a batch has probability
    ``batch_size / len`` to be included) and raises ``ValueError`` when asked for more rows
    than are stored.
    """
    import numpy as np

    def make(capacity: int, obs_dim: int, seed: int) -> Any:
        return call_learner(cls, capacity, obs_dim, np.random.default_rng(seed))

    def push(buffer: Any, i: int, obs_dim: int) -> None:
        call_learner(buffer.push, *_transition(i, obs_dim))

    def length(buffer: Any, case: str) -> int:
        try:
            return len(buffer)
        except Exception as exc:
            fail(f"{case}: len(buffer) raised {type(exc).__name__}: {exc}")

    # 1. Before it is full: len counts pushes, a full-size batch holds each transition once.
    case = "capacity 5 after 3 pushes"
    buffer = make(5, 4, seed=0)
    for i in range(1, 4):
        push(buffer, i, 4)
    if length(buffer, case) != 3:
        fail(f"{case}: len(buffer) should be 3, got {length(buffer, case)}; "
             "count the stored transitions in push")
    for _ in range(20):
        ids = _sample_ids(buffer, 2, 4, case)
        if len(set(ids)) != 2:
            fail(f"{case}: sample(2) returned the same transition twice ({ids}); a minibatch "
                 "holds distinct transitions (sample without replacement)")
    ids = _sample_ids(buffer, 3, 4, case)
    if sorted(ids) != [1, 2, 3]:
        fail(f"{case}: sample(3) should return each of the 3 stored transitions once, got "
             f"transitions {sorted(ids)}")

    # 2. Asking for more than is stored is an error.
    try:
        buffer.sample(4)
    except ValueError:
        pass
    except Exception as exc:
        fail(f"{case}: sample(4) raised {type(exc).__name__}; raise ValueError when "
             "batch_size is larger than the number of stored transitions")
    else:
        fail(f"{case}: sample(4) returned a batch; with only 3 transitions stored it "
             "must raise ValueError")

    # 3. Wrap-around: 12 pushes into 5 rows keep exactly the 5 newest.
    case = "capacity 5 after 12 pushes"
    buffer = make(5, 3, seed=1)
    for i in range(1, 13):
        push(buffer, i, 3)
    if length(buffer, case) != 5:
        fail(f"{case}: len(buffer) should be 5 (a full buffer stays at its capacity), "
             f"got {length(buffer, case)}")
    ids = _sample_ids(buffer, 5, 3, case)
    if sorted(ids) != [8, 9, 10, 11, 12]:
        fail(f"{case}: the buffer should hold the 5 newest transitions (8-12), it holds "
             f"{sorted(ids)}; write at `position` and advance it modulo the capacity")

    # 4. Uniform, random sets: frequencies B / len, and not contiguous slices.
    case = "capacity 50 after 80 pushes, 2000 batches of 10"
    buffer = make(50, 2, seed=2)
    for i in range(1, 81):
        push(buffer, i, 2)
    counts = np.zeros(81)
    contiguous = 0
    for _ in range(2000):
        ids = _sample_ids(buffer, 10, 2, case)
        if len(set(ids)) != 10:
            fail(f"{case}: a batch held the same transition twice; sample without replacement")
        counts[ids] += 1
        contiguous += int(np.ptp(ids) == 9)
    if contiguous > 100:
        fail(f"{case}: {contiguous} of 2000 batches were runs of consecutive transitions; "
             "pick each row at random, or the minibatch is as correlated as the raw stream")
    expected = 2000 * 10 / 50  # 400 draws per stored transition, standard deviation ~18
    if np.any(np.abs(counts[31:] - expected) > 90) or counts[:31].any():
        worst = 31 + int(np.argmax(np.abs(counts[31:] - expected)))
        fail(f"{case}: transition {worst} was sampled {int(counts[worst])} times, expected "
             f"about {expected:.0f}; every stored transition should be equally likely")

    # 5. Reproducible: all randomness from rng.
    case = "two buffers built with default_rng(3)"
    batches = []
    for _ in range(2):
        buffer = make(20, 2, seed=3)
        for i in range(1, 31):
            push(buffer, i, 2)
        batches.append([_sample_ids(buffer, 8, 2, case) for _ in range(5)])
    if batches[0] != batches[1]:
        fail(f"{case}: the same seed gave different batches; draw the indices from the "
             "buffer's rng (not np.random or random)")
    passed("push fills rows in order and overwrites the oldest once full; len is capped at "
           "the capacity; sample draws distinct stored rows, uniformly, with aligned fields, "
           "reproducibly from rng, and refuses to sample more than is stored.")


# --- Lesson 05: target networks -------------------------------------------------------------

__all__ += ["check_soft_update"]


@_leaves_random_state_alone
def check_soft_update(fn: Callable[..., Any]) -> None:
    """Check ``fn(target_net, online_net, tau)``: the soft (Polyak) target update, in place.

    .. math:: \\theta^- \\leftarrow \\tau \\theta + (1 - \\tau) \\theta^-

    for every parameter (each layer's weight and bias); the online network is not changed.
    Applied ``n`` times with the online weights fixed it gives
    ``theta + (1 - tau)^n (theta^-_0 - theta)``, and ``tau = 1`` is a hard copy.
    """
    import torch
    import torch.nn as nn

    def nets(seed: int) -> tuple[nn.Module, nn.Module]:
        torch.manual_seed(seed)
        online = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                               nn.Linear(8, 2))
        target = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                               nn.Linear(8, 2))
        target.requires_grad_(False)
        return target, online

    def weights(net: nn.Module) -> list[Any]:
        return [p.detach().clone() for p in net.parameters()]

    def diagnose(case: str, got: list[Any], before: list[Any], theta: list[Any],
                 tau: float) -> None:
        names = [f"layer {k // 2} {'weight' if k % 2 == 0 else 'bias'}" for k in range(len(got))]
        if all(torch.equal(g, b) for g, b in zip(got, before, strict=True)):
            fail(f"{case}: the target network did not change; update its parameters in place "
                 "(e.g. with lerp_ or copy_ under torch.no_grad()); assigning to a local "
                 "variable or to a state_dict copy changes nothing")
        swapped = [(1 - tau) * t + tau * b for t, b in zip(theta, before, strict=True)]
        if tau != 0.5 and all(torch.allclose(g, s, atol=1e-6)
                              for g, s in zip(got, swapped, strict=True)):
            fail(f"{case}: tau is the weight of the *online* network: "
                 "theta_target <- tau * theta + (1 - tau) * theta_target")
        for name, g, b, t in zip(names, got, before, theta, strict=True):
            if not torch.allclose(g, tau * t + (1 - tau) * b, atol=1e-6):
                if torch.equal(g, b):
                    fail(f"{case}: the {name} was not updated; update every parameter of "
                         "the network, weights and biases of every layer")
                fail(f"{case}: the {name} of the target network is off; each element should "
                     "become tau * online + (1 - tau) * target")

    for tau in (0.005, 0.3, 1.0):
        case = f"tau = {tau}"
        target, online = nets(seed=int(tau * 1000))
        before, theta = weights(target), weights(online)
        target_params = list(target.parameters())
        # Views of the parameters' storage, as a trainer that keeps all weights in one
        # vector (helpers.dqn.flatten_parameters) or an optimizer holds them: a correct
        # update writes into this memory, so the views see it.
        views = [p.detach() for p in target_params]
        pointers = [p.data_ptr() for p in target_params]
        result = call_learner(fn, target, online, tau)
        if result is not None and result is not target:
            fail(f"{case}: update target_net in place and return nothing; the caller keeps "
                 "using its own target network object")
        if any(p is not q for p, q in zip(target.parameters(), target_params, strict=True)):
            fail(f"{case}: the target network's parameter tensors were replaced; write into "
                 "them in place instead, so an optimizer or a view holding them sees the change")
        if not all(torch.equal(a, b) for a, b in zip(weights(online), theta, strict=True)):
            fail(f"{case}: the online network changed; only the target network is updated")
        if any(p.data_ptr() != ptr for p, ptr in zip(target_params, pointers, strict=True)):
            fail(f"{case}: the parameters now point at new memory (assigning to .data "
                 "rebinds it): a trainer or optimizer holding the old memory never sees the "
                 "update. Write the new values into the existing tensors in place")
        diagnose(case, [v.clone() for v in views], before, theta, tau)

    # Repeated updates towards fixed online weights: (1 - tau)^n of the gap remains.
    case = "tau = 0.1 applied 5 times"
    target, online = nets(seed=7)
    before, theta = weights(target), weights(online)
    for _ in range(5):
        call_learner(fn, target, online, 0.1)
    for g, b, t in zip(weights(target), before, theta, strict=True):
        if not torch.allclose(g, t + 0.9**5 * (b - t), atol=1e-6):
            fail(f"{case}: after 5 updates the target should be "
                 "theta + (1 - tau)^5 (theta_target_0 - theta); each call moves the target a "
                 "fraction tau of the remaining way towards the online weights")
    passed("theta_target <- tau theta + (1 - tau) theta_target, in place, on every weight and "
           "bias, for tau = 0.005, 0.3 and 1 (a hard copy), and (1 - tau)^n of the gap left "
           "after n updates.")


# --- Lesson 07: Double DQN ------------------------------------------------------------------

__all__ += ["check_double_dqn_target"]


def _double_target_reference(rewards: Any, next_q_online: Any, next_q_target: Any,
                             terminated: Any, gamma: float, mistake: str | None = None) -> Any:
    """``r + gamma (1 - d) Q_target(s', argmax_a' Q_online(s', a'))``, or a typical mistake."""
    import torch

    chooser, evaluator = next_q_online, next_q_target
    if mistake == "swapped":
        chooser, evaluator = next_q_target, next_q_online
    elif mistake == "online_only":
        evaluator = next_q_online
    if mistake == "vanilla":
        next_value = next_q_target.max(dim=1).values
    else:
        best = chooser.argmax(dim=1, keepdim=True)  # (B, 1)
        next_value = evaluator.gather(1, best).squeeze(1)  # (B,)
    mask = 1.0 - terminated
    if mistake == "no_mask":
        mask = torch.ones_like(terminated)
    elif mistake == "inverted_mask":
        mask = terminated
    g = 1.0 if mistake == "no_gamma" else gamma
    if mistake == "zero_target":
        return mask * (rewards + g * next_value)
    return rewards + g * mask * next_value


def _double_target_cases() -> list[tuple[str, Any, Any, Any, Any, float]]:
    """``(name, rewards, next_q_online, next_q_target, terminated, gamma)``; no ties in any
    row of ``next_q_online``, so every correct argmax agrees."""
    import torch

    generator = torch.Generator().manual_seed(7)

    def randn(*shape: int) -> Any:
        return torch.randn(*shape, generator=generator)

    # the online net prefers action 1 in rows 0 and 2, the target net prefers action 0 there
    online = torch.tensor([[1.0, 3.0], [5.0, 2.0], [0.0, 4.0], [2.0, 1.0]])
    target = torch.tensor([[4.0, 2.0], [1.0, 6.0], [7.0, 0.5], [3.0, -1.0]])
    return [
        ("a batch of 4 where the two networks disagree, gamma = 0.9",
         torch.tensor([1.0, 0.5, 2.0, 1.0]), online, target,
         torch.tensor([0.0, 0.0, 0.0, 1.0]), 0.9),
        ("a batch of 6 with 3 actions and negative values, gamma = 0.99",
         randn(6), randn(6, 3) - 5.0, randn(6, 3) - 5.0,
         torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0, 0.0]), 0.99),
        ("an all-terminal batch", torch.tensor([1.0, -1.0, 0.5]), randn(3, 2), randn(3, 2),
         torch.ones(3), 0.9),
        ("a batch of one", torch.tensor([1.0]), torch.tensor([[0.2, 0.7]]),
         torch.tensor([[3.0, -2.0]]), torch.zeros(1), 0.5),
        ("gamma = 1 with 4 actions", randn(5), randn(5, 4), randn(5, 4),
         torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]), 1.0),
        ("gamma = 0", torch.tensor([2.0, 3.0]), randn(2, 2), randn(2, 2), torch.zeros(2), 0.0),
    ]


@_leaves_random_state_alone
def check_double_dqn_target(fn: Callable[..., Any]) -> None:
    """Check ``fn(rewards, next_q_online, next_q_target, terminated, gamma) -> td_target``.

    The Double DQN target of a batch: the online network *chooses* the next action, the
    target network *evaluates* it,

    .. math::
        a^*_i = \\arg\\max_{a'} Q(s'_i, a'; \\theta), \\qquad
        y_i = r_i + \\gamma \\, (1 - d_i) \\, Q(s'_i, a^*_i; \\theta^-)

    with ``rewards`` and ``terminated`` (0.0/1.0) of shape ``(B,)`` and the two networks'
    next-state Q-values ``next_q_online``, ``next_q_target`` of shape ``(B, n_actions)``.
    The result has shape ``(B,)``; the inputs must not be modified.
    """
    import torch

    mistakes = [
        ("vanilla", "this is the vanilla DQN target, the max of the target network's values; "
                    "in Double DQN the *online* network chooses the next action (argmax of "
                    "next_q_online) and the target network gives its value"),
        ("swapped", "the roles are swapped: the online network chooses (argmax of "
                    "next_q_online), the target network evaluates (read next_q_target at "
                    "that action)"),
        ("online_only", "the online network both chose and evaluated the action; evaluate "
                        "the chosen action with next_q_target"),
        *_MASK_MISTAKES,
        ("no_gamma", "discount the next state's value by gamma"),
    ]
    for name, rewards, next_q_online, next_q_target, terminated, gamma in _double_target_cases():
        got = _call_on_tensors(name, fn, rewards, next_q_online, next_q_target, terminated,
                               gamma)
        batch_size = rewards.shape[0]
        if tuple(got.shape) != (batch_size,):
            hint = (" -- gather keeps the dimension it indexes; remove it with squeeze(1)"
                    if tuple(got.shape) in ((batch_size, 1), (batch_size, batch_size)) else "")
            fail(f"on {name}: the targets must have shape ({batch_size},), one per "
                 f"transition, got {tuple(got.shape)}{hint}")
        expected = _double_target_reference(rewards, next_q_online, next_q_target, terminated,
                                            gamma)
        if torch.allclose(got.float(), expected, rtol=1e-5, atol=1e-5):
            continue
        for mistake, hint in mistakes:
            wrong = _double_target_reference(rewards, next_q_online, next_q_target, terminated,
                                             gamma, mistake)
            if not torch.allclose(wrong, expected) and torch.allclose(got.float(), wrong,
                                                                      rtol=1e-5, atol=1e-5):
                fail(f"on {name}: {hint}")
        fail(f"on {name}: the targets are off. Take a* = the argmax over actions (dim 1) of "
             "next_q_online, read next_q_target at a* for each row, then reward + gamma * "
             "(1 - terminated) * that value")
    passed("Double DQN targets match on 6 batches: networks that disagree, 3 and 4 actions, "
           "negative values, an all-terminal batch, a batch of one, gamma = 0 and gamma = 1.")


# --- Lesson 08: beyond CartPole -------------------------------------------------------------

__all__ += ["check_shaped_reward", "check_conv_output_size"]


def _shaped_reference(reward: float, phi: float, phi_next: float, gamma: float,
                      terminated: bool, mistake: str | None = None) -> float:
    """``reward + gamma * Phi(s') - Phi(s)``, ``Phi(s') = 0`` if terminal; or a typical error."""
    phi_next_masked = 0.0 if terminated else phi_next
    if mistake == "no_mask":
        return reward + gamma * phi_next - phi
    if mistake == "no_gamma":
        return reward + phi_next_masked - phi
    if mistake == "gamma_on_phi":
        return reward + phi_next_masked - gamma * phi
    if mistake == "reversed":
        return reward + phi - gamma * phi_next_masked
    if mistake == "no_reward":
        return gamma * phi_next_masked - phi
    if mistake == "terminal_drops_all":
        return reward if terminated else reward + gamma * phi_next - phi
    return reward + gamma * phi_next_masked - phi


def _shaped_cases() -> list[tuple[str, float, float, float, float, bool]]:
    """``(name, reward, phi, phi_next, gamma, terminated)`` for :func:`check_shaped_reward`."""
    return [
        ("a step that gains potential, gamma=0.99", -1.0, 20.0, 25.0, 0.99, False),
        ("a step that loses potential, gamma=0.9", -1.0, 30.0, 10.0, 0.9, False),
        ("the same potential before and after, gamma=0.98", -1.0, 40.0, 40.0, 0.98, False),
        ("a terminal step (the flag), gamma=0.99", -1.0, 60.0, 70.0, 0.99, True),
        ("a positive reward and negative potentials, gamma=0.5", 2.5, -3.0, -1.0, 0.5, False),
        ("gamma=1, not terminal", 0.0, 5.0, 7.5, 1.0, False),
        ("a terminal step with a negative potential before it, gamma=0.95", 1.0, -4.0, 3.0,
         0.95, True),
    ]


@_leaves_random_state_alone
def check_shaped_reward(fn: Callable[..., Any]) -> None:
    """Check ``fn(reward, phi, phi_next, gamma, terminated) -> shaped reward`` (one transition).

    Potential-based shaping (Ng, Harada & Russell, 1999):

    .. math:: r' = r + \\gamma \\, \\Phi(s') - \\Phi(s), \\qquad \\Phi(s') = 0
        \\text{ when } s' \\text{ is terminal}

    ``phi`` and ``phi_next`` are the potentials of ``s`` and ``s'``. Also checks the
    property the formula is for: on an episode, the discounted sum of the shaped rewards is
    the discounted return minus the first state's potential.
    """
    import math

    import numpy as np

    mistakes = [
        ("no_mask", "a terminal state has no future, so its potential counts as 0: "
                    "use gamma * 0 - Phi(s) when terminated"),
        ("terminal_drops_all", "on a terminal step only Phi(s') is 0; the -Phi(s) term "
                               "stays"),
        ("no_gamma", "discount the next state's potential: gamma * Phi(s')"),
        ("gamma_on_phi", "gamma multiplies the *next* state's potential, Phi(s'), not Phi(s)"),
        ("reversed", "the sign is reversed: add gamma * Phi(s') and subtract Phi(s)"),
        ("no_reward", "the shaping term is added to the environment's reward; keep the "
                      "reward"),
    ]
    for name, reward, phi, phi_next, gamma, terminated in _shaped_cases():
        got = call_learner(fn, reward, phi, phi_next, gamma, terminated)
        try:
            value = float(got)
        except (TypeError, ValueError):
            fail(f"on {name}: return one number, got {type(got).__name__}")
        expected = _shaped_reference(reward, phi, phi_next, gamma, terminated)
        if math.isclose(value, expected, rel_tol=RTOL, abs_tol=ATOL):
            continue
        for mistake, hint in mistakes:
            wrong = _shaped_reference(reward, phi, phi_next, gamma, terminated, mistake)
            if not math.isclose(wrong, expected) and math.isclose(value, wrong, rel_tol=RTOL,
                                                                    abs_tol=ATOL):
                fail(f"on {name}: {hint}")
        fail(f"on {name}: expected reward + gamma * Phi(s') - Phi(s) (with Phi(s') = 0 when "
             f"terminated); got {value:g}")
    # the telescoping sum over one episode of 6 steps that ends in a terminal state
    rng = np.random.default_rng(8)
    gamma, rewards, phis = 0.9, rng.uniform(-2, 1, 6), rng.uniform(-5, 5, 7)
    shaped = [float(call_learner(fn, float(rewards[t]), float(phis[t]), float(phis[t + 1]),
                                 gamma, t == 5)) for t in range(6)]
    discounts = gamma ** np.arange(6)
    if not math.isclose(float(discounts @ shaped), float(discounts @ rewards - phis[0]),
                        rel_tol=1e-6, abs_tol=1e-6):
        fail("on an episode of 6 steps: the discounted sum of your shaped rewards should be "
             "the discounted return minus Phi(s_0); check the terminal step")
    passed("shaped rewards match on 7 transitions (gains, losses, terminal steps, gamma = 1), "
           "and on an episode they sum to the return minus Phi(s_0): the telescoping sum.")


def _conv_reference(size: int, kernel: int, stride: int, padding: int,
                    mistake: str | None = None) -> float:
    if mistake == "no_plus_one":
        return (size + 2 * padding - kernel) // stride
    if mistake == "true_division":
        return (size + 2 * padding - kernel) / stride + 1
    if mistake == "no_padding":
        return (size - kernel) // stride + 1
    if mistake == "one_padding":
        return (size + padding - kernel) // stride + 1
    if mistake == "ceil":
        return -(-(size + 2 * padding - kernel) // stride) + 1
    if mistake == "size_over_stride":
        return size // stride
    return (size + 2 * padding - kernel) // stride + 1


@_leaves_random_state_alone
def check_conv_output_size(fn: Callable[..., Any]) -> None:
    """Check ``fn(size, kernel, stride, padding=0) -> int``: a convolution's output width.

    .. math:: \\lfloor (n + 2p - k) / s \\rfloor + 1

    for an input ``size`` n, a ``kernel`` k, a ``stride`` s and ``padding`` p on each side;
    compared with what ``torch.nn.Conv2d`` gives.
    """
    import torch

    cases = [
        ("the Nature DQN's first layer: 84 wide, 8x8 kernel, stride 4", 84, 8, 4, 0),
        ("its second layer: 20 wide, 4x4, stride 2", 20, 4, 2, 0),
        ("its third layer: 9 wide, 3x3, stride 1", 9, 3, 1, 0),
        ("a stride that does not divide evenly: 85 wide, 8x8, stride 4", 85, 8, 4, 0),
        ("padding 1 on each side: 32 wide, 3x3, stride 1", 32, 3, 1, 1),
        ("padding 2 and stride 2: 28 wide, 5x5", 28, 5, 2, 2),
        ("a kernel as wide as the input: 7 wide, 7x7, stride 1", 7, 7, 1, 0),
    ]
    mistakes = [  # the padding mistakes first: they alone differ only where padding > 0
        ("no_padding", "padding adds `padding` pixels on *each* side: the padded width is "
                       "size + 2 * padding"),
        ("one_padding", "padding is added on both sides: size + 2 * padding, not + padding"),
        ("true_division", "a width is a whole number: the last window that fits starts at "
                          "a multiple of the stride, so round down (use //)"),
        ("no_plus_one", "count the windows, not the gaps between them: add 1 (the window "
                        "at position 0)"),
        ("ceil", "round down: a window that would run past the edge is not computed"),
        ("size_over_stride", "the kernel's width matters: the first window covers `kernel` "
                             "pixels before the stride moves it on"),
    ]
    for name, size, kernel, stride, padding in cases:
        conv = torch.nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
        with torch.no_grad():
            expected = conv(torch.zeros(1, 1, size, size)).shape[-1]
        got = call_learner(fn, size, kernel, stride, padding)
        try:
            got = got.item() if hasattr(got, "item") else got  # a NumPy or torch scalar
        except (ValueError, RuntimeError):  # an array of several numbers
            fail(f"on {name}: return one whole number, got {type(got).__name__}")
        if isinstance(got, bool) or not isinstance(got, int | float):
            fail(f"on {name}: return a whole number, got {type(got).__name__}")
        if got == expected:
            if not isinstance(got, int):
                fail(f"on {name}: right value, but return an int (use //), got "
                     f"{type(got).__name__} {got}")
            continue
        for mistake, hint in mistakes:
            wrong = _conv_reference(size, kernel, stride, padding, mistake)
            if wrong != expected and got == wrong:
                fail(f"on {name}: {hint}")
        fail(f"on {name}: torch.nn.Conv2d gives {expected}, you gave {got}")
    passed("output widths match torch.nn.Conv2d on 7 layers: the Nature DQN's three, a "
           "stride that does not divide evenly, padding, a kernel as wide as the input.")
