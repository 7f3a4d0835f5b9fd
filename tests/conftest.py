"""Shared set-up: torch configured as every lesson configures it, ``set_cpu_threads(1)``.

``train_dqn`` and ``evaluate`` set torch up for themselves and restore the caller's
settings afterwards, so other tests run with whatever the process has; torch's default
of one thread per core makes tiny-tensor code (an optimizer step, a forward pass) many
times slower on a busy machine.
"""

import pytest

from helpers.runtime import restoring_torch_state, set_cpu_threads


@pytest.fixture(autouse=True, scope="session")
def _torch_as_in_the_lessons():
    with restoring_torch_state():
        set_cpu_threads(1)
        yield
