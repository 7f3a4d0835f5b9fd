"""Lesson 07 as committed: teachable cells, no re-implemented training loop, honest figures,
and the sample-size formula it uses to say how many seeds a ranking would need."""

import math
import re

import numpy as np
import pytest
from notebook_files import code_sources, lesson_cells, source_of


@pytest.fixture(scope="module")
def cells():
    return lesson_cells("07")


def test_records_internals_with_the_hook_not_a_copy_of_the_loop(cells):
    code = "\n".join(code_sources(cells))
    assert "on_step=" in code
    for loop_piece in ("optimizer.step()", "FlatAdamW", "flatten_parameters", "lerp_("):
        assert loop_piece not in code, f"the lesson re-implements train_dqn ({loop_piece})"


def test_no_wall_clock_measurements(cells):
    code = "\n".join(code_sources(cells))
    assert "perf_counter" not in code and "import time" not in code
    assert "steps_per_second" not in code and "train_seconds" not in code


def test_every_figure_is_titled_labelled_and_has_a_legend(cells):
    figures = [c for c in cells if c["cell_type"] == "code"
               and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert len(figures) >= 5
    for cell in figures:
        text = source_of(cell)
        assert "set_title(" in text or "suptitle(" in text, text[:200]
        assert "set_xlabel(" in text and "set_ylabel(" in text, text[:200]
        assert "legend(" in text, text[:200]


def test_training_curves_count_env_steps(cells):
    for cell in cells:
        text = source_of(cell)
        if cell["cell_type"] == "code" and "durations" in text and "set_xlabel(" in text:
            assert 'set_xlabel("Environment step")' in text, text[:200]


def test_progress_bar_counts_env_steps_and_ends_complete(cells):
    bars = [o["data"]["text/plain"] for c in cells if c["cell_type"] == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "display_data"
            and "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert bars, "the nine runs show a progress bar"
    text = "".join(bars[0]) if isinstance(bars[0], list) else bars[0]
    assert "env steps" in text and "100%" in text
    done, total = map(int, re.search(r"(\d+)/(\d+)", text).groups())
    assert done == total == 36_000


def _lesson_function(cells, name):
    for text in code_sources(cells):
        if re.search(rf"^def {name}\(", text, re.M):
            namespace = {"NormalDist": __import__("statistics").NormalDist, "math": math}
            exec(text.split("\n\n\nassert")[0], namespace)  # the definitions, not the asserts
            return namespace[name]
    raise AssertionError(f"lesson 07 defines {name}")


@pytest.mark.parametrize("difference, spread", [(1.0, 1.0), (50.0, 65.0), (2_600.0, 2_800.0)])
def test_seeds_needed_gives_the_promised_power(cells, difference, spread):
    """Simulate the comparison it sizes: n seeds per variant, normal results, a two-sided
    5 % z-test on the difference of means. It must detect the difference 80 % of the time
    (a little more, as n is rounded up), and fewer seeds must fall short."""
    seeds_needed = _lesson_function(cells, "seeds_needed")
    n = math.ceil(seeds_needed(difference, spread))
    rng = np.random.default_rng(0)

    def power(n_seeds, trials=40_000):
        a = rng.normal(0.0, spread, size=(trials, n_seeds)).mean(axis=1)
        b = rng.normal(difference, spread, size=(trials, n_seeds)).mean(axis=1)
        z = (b - a) / (spread * math.sqrt(2 / n_seeds))
        return np.mean(np.abs(z) > 1.959964)

    assert 0.79 <= power(n) <= 0.87
    if n > 2:
        assert power(n - 2) < 0.8


def test_smallest_detectable_inverts_seeds_needed(cells):
    seeds_needed = _lesson_function(cells, "seeds_needed")
    smallest = _lesson_function(cells, "smallest_detectable")
    for n in (2, 3, 10, 40):
        assert math.isclose(seeds_needed(smallest(n, 7.0), 7.0), n)
