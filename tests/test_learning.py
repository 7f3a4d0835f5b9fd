"""Learning tests: does the documented recipe actually learn?

These judge what a learner will see, so they must hold on any CPU, not only on the one that
wrote the committed outputs: torch picks different floating-point kernels on different
machines, and after a few thousand gradient steps the same seed takes a different path.
So the test trains several seeds with the recipe the README documents and asserts a robust
aggregate. `make test-numerics` runs this file again on a second floating-point path.

Margins, measured with this recipe on 13 runs (seeds 0-7 on the default path, seeds 0-4 with
MKL_CBWR=COMPATIBLE): 12 networks scored 500.0 on the 100 held-out episodes, one 476.7. The
test asks for 475 on at least 3 of 5 seeds (with a per-seed failure rate as high as 10 %,
it would fail about once in a hundred machines; at the measured rate, far less often) and
for every seed to have learned to balance far longer than an untrained network (>= 200).
"""

import numpy as np

from helpers.dqn import DQNConfig, evaluate, train_dqn

HELD_OUT_SEED = 20_000  # reset seeds never used in training or in its evaluations
SEEDS = range(5)
SOLVED = 475


def _recommended_recipe(seed):
    """The README's recipe: up to 30,000 env steps, 50-episode evaluations every 2,000,
    keep the best evaluated network."""
    return train_dqn(DQNConfig.recommended(), seed=seed, max_steps=30_000, eval_every=2_000,
                     eval_episodes=50, keep_best=True)


def test_recommended_recipe_solves_cartpole_on_held_out_episodes():
    """Solved = mean greedy return >= 475 over 100 held-out episodes (the usual convention)."""
    held_out = np.array([
        evaluate(_recommended_recipe(seed).policy_net, n_episodes=100, seed=HELD_OUT_SEED).mean()
        for seed in SEEDS
    ])
    report = f"held-out means per seed: {held_out.round(1).tolist()}"
    assert np.sum(held_out >= SOLVED) >= 3, report
    assert np.median(held_out) >= SOLVED, report
    assert held_out.min() >= 200, report
