"""Lesson 04 as committed, and the facts its ablation control rests on.

The control of section 5, ``DQNConfig(memory_size=128)``, is described in the lesson as
"every gradient step trains on the 128 newest transitions, with the seed's DQN's batch size,
gradient steps and reuse". The tests below prove that description from the trainer itself.
"""

import re

import numpy as np
import pytest
import torch
from notebook_files import lesson_cells, source_of

from helpers.dqn import DQNConfig, ReplayBuffer, train_dqn


@pytest.fixture(scope="module")
def cells():
    return lesson_cells("04")


def test_no_machine_specific_speed_in_prose_or_prints(cells):
    """Timings are measured on the computer that runs the notebook; prose states none."""
    for cell in cells:
        text = source_of(cell)
        assert "steps/s" not in text and "on a laptop" not in text.split("**Run time:**")[0]
        if cell["cell_type"] == "markdown":
            assert not re.search(r"\d\s*(µs|ms)\b", text), text[:200]


def test_progress_bars_count_env_steps(cells):
    code = "\n".join(source_of(c) for c in cells if c["cell_type"] == "code")
    assert "tqdm" not in code
    assert 'progress_bar(total=total_steps, desc="ablation"' in code


def test_the_paper_is_not_misquoted(cells):
    text = "\n".join(source_of(c) for c in cells if c["cell_type"] == "markdown")
    assert "that is also what the DQN paper found" not in text
    assert "two innovations" not in text
    assert "2013" in text and "Extended Data Table 3" in text


def test_a_full_memory_of_one_batch_yields_all_of_it_every_time():
    """sample draws without replacement: batch_size == size gives a permutation of the memory."""
    memory = ReplayBuffer(128, obs_shape=(1,), rng=np.random.default_rng(0))
    for i in range(300):  # wraps around: the memory holds transitions 172..299
        memory.push([float(i)], i % 2, float(i), [float(i + 1)], False)
    for _ in range(5):
        batch = memory.sample(128)
        assert sorted(batch.rewards.tolist()) == [float(i) for i in range(172, 300)]


def _batches(config, n_steps):
    steps_seen, states = [], []

    def hook(info):
        states.append(info.batch.states.clone())
        steps_seen.append(info.step)

    result = train_dqn(config, seed=3, max_steps=n_steps, num_episodes=10_000, on_step=hook)
    return result, steps_seen, states


def test_the_control_trains_on_the_newest_128_transitions_at_every_step():
    """Consecutive batches of the control share exactly 127 transitions (a sliding window),
    and it takes as many gradient steps as the seed's DQN: same B, same G, same reuse."""
    control, steps, states = _batches(DQNConfig(memory_size=128), 400)
    seed_dqn, seed_steps, _ = _batches(DQNConfig(), 400)
    assert steps == seed_steps == list(range(128, 401))  # one gradient step per env step
    assert len(control.losses) == len(seed_dqn.losses) == 400 - 128 + 1
    for before, after in zip(states[:-1], states[1:], strict=True):
        rows_before = {tuple(row) for row in before.tolist()}
        rows_after = {tuple(row) for row in after.tolist()}
        # CartPole states are continuous: two transitions share a state only if they are one
        assert len(rows_before) == len(rows_after) == 128
        assert len(rows_before & rows_after) == 127


def test_the_seed_dqn_batches_are_spread_over_the_memory():
    """The contrast: the seed's DQN's consecutive batches share few transitions."""
    _, _, states = _batches(DQNConfig(), 400)
    shared = [len({tuple(r) for r in a.tolist()} & {tuple(r) for r in b.tolist()})
              for a, b in zip(states[-50:-1], states[-49:], strict=True)]
    assert np.mean(shared) < 64  # 128 of ~400 stored: about 128 * 128 / 400 = 41 expected
    assert torch.is_tensor(states[0]) and states[0].shape == (128, 4)
