"""LunarLander-v3 with the series' DQN: learning curves of several seeds, and one checkpoint.

    python benchmarks/lunar_lander.py    # 3 seeds x 100,000 env steps (about 15 CPU-minutes)
    python benchmarks/lunar_lander.py --seeds 1 --steps 20000   # a quick look

A run is too long for a lesson's minute, so lesson 08 shows what this script measured:
``helpers/data/lunar_lander_runs.json`` (every run's greedy evaluations, training-episode
returns and wall-clock speed, with the machine it ran on) and
``helpers/data/lunar_lander_dqn.pt``, the best evaluated network of the first seed, saved with
:func:`helpers.dqn.save_checkpoint`. One torch thread; runs are deterministic for a machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `bench_dqn`

from bench_dqn import HELD_OUT_SEED, cpu_model  # noqa: E402

import helpers  # noqa: E402
from helpers.dqn import DQNConfig, evaluate, save_checkpoint, solved_threshold, train_dqn  # noqa: E402

ENV_ID = "LunarLander-v3"
DATA = Path(__file__).resolve().parents[1] / "helpers" / "data"
EVAL_EVERY = 5_000
EVAL_EPISODES = 20

# The recommended CartPole config, adapted: see lesson 08 for why each change.
CONFIG = DQNConfig.recommended().replace(gamma=0.99, memory_size=50_000, eps_decay=10_000.0)


def run(seed: int, steps: int) -> tuple[dict, object]:
    start = time.perf_counter()
    result = train_dqn(CONFIG, env_id=ENV_ID, seed=seed, max_steps=steps, num_episodes=10**6,
                       eval_every=EVAL_EVERY, eval_episodes=EVAL_EPISODES, keep_best=True)
    held_out = evaluate(result.policy_net, ENV_ID, 100, seed=HELD_OUT_SEED)  # unseen in training
    record = {
        "seed": seed,
        "eval_steps": list(result.eval_steps),
        "eval_returns": [round(r, 2) for r in result.eval_returns],
        "episode_durations": list(result.episode_durations),
        "episode_returns": [round(r, 2) for r in result.episode_returns],
        "solved_step": result.solved_step,
        "best_eval_step": result.best_eval_step,
        "held_out_mean": round(float(held_out.mean()), 2),
        "train_seconds": round(result.train_seconds, 1),
        "eval_seconds": round(result.eval_seconds, 1),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "steps_per_second": round(result.steps_per_second, 1),
    }
    return record, result.policy_net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps per run")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.steps < EVAL_EVERY:
        parser.error(f"--seeds must be >= 1 and --steps >= {EVAL_EVERY}")
    runs = []
    for seed in range(args.seeds):
        record, net = run(seed, args.steps)
        runs.append(record)
        print(f"seed {seed}: solved at {record['solved_step']}, best evaluation at "
              f"{record['best_eval_step']}, held-out mean {record['held_out_mean']:.1f}, "
              f"{record['wall_seconds']:.0f} s ({record['steps_per_second']:.0f} steps/s)",
              flush=True)
        if seed == 0:
            save_checkpoint(args.out / "lunar_lander_dqn.pt", net, CONFIG)
    data = {
        "env_id": ENV_ID, "threshold": solved_threshold(ENV_ID), "config": asdict(CONFIG),
        "max_steps": args.steps, "eval_every": EVAL_EVERY, "eval_episodes": EVAL_EPISODES,
        "held_out_seeds": [HELD_OUT_SEED, HELD_OUT_SEED + 99], "checkpoint_seed": 0,
        "machine": f"{cpu_model()}, 1 torch thread", "helpers_version": helpers.__version__,
        "command": f"python benchmarks/lunar_lander.py --seeds {args.seeds} --steps {args.steps}",
        "runs": runs,
    }
    (args.out / "lunar_lander_runs.json").write_text(
        json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print("median held-out mean", np.median([r["held_out_mean"] for r in runs]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
