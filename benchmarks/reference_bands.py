"""Reference bands: train each configuration a lesson plots on 20 seeds, store quantiles.

    python benchmarks/reference_bands.py                    # every band (about 75 CPU-minutes)
    python benchmarks/reference_bands.py --names naive seed  # only these; the others are kept
    python benchmarks/reference_bands.py --list              # what each band is

Writes ``helpers/data/reference_bands.json`` (see :mod:`helpers.bands` for what is stored).
Seeds 1000-1019 are used, so no reference run is a run a lesson shows. One torch thread;
runs are deterministic for a machine, and another CPU gives other runs with the same spread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import helpers  # noqa: E402
from helpers.bands import BANDS_PATH, WINDOW, collapse_level  # noqa: E402
from helpers.curves import durations_vs_steps  # noqa: E402
from helpers.dqn import DQNConfig, solved_threshold, train_dqn  # noqa: E402
from helpers.shaping import MOUNTAIN_CAR_SHAPED  # noqa: E402

GRID = 250  # env steps between stored points
EVAL_EVERY = 2_000
EVAL_EPISODES = 100
SEEDS = tuple(range(1000, 1020))


class Spec(NamedTuple):
    """One band: what it is called in plots, the runs' config, budget and environments."""

    label: str
    config: DQNConfig
    max_steps: int
    env_id: str = "CartPole-v1"
    eval_env_id: str | None = None
    """The environment the evaluations play (None: ``env_id``), e.g. unshaped MountainCar."""


_NAIVE = DQNConfig(use_replay=False, use_target_network=False)
_RECOMMENDED = DQNConfig.recommended()

# name -> Spec(label, config, env steps per run, env_id, eval_env_id)
SPECS: dict[str, Spec] = {
    "naive": Spec("naive DQN (no replay, no target network)", _NAIVE, 6_000),
    "naive_lr_1e-5": Spec("naive DQN, lr = 1e-5", _NAIVE.replace(lr=1e-5), 14_000),
    "replay": Spec("replay only", _NAIVE.replace(use_replay=True), 6_000),
    "target": Spec("target network only", _NAIVE.replace(use_target_network=True), 6_000),
    "seed": Spec("the seed guide's DQN", DQNConfig(), 10_000),
    "newest_128": Spec("replay of the 128 newest transitions only",
                       DQNConfig(memory_size=128), 6_000),
    "hard_target": Spec("replay + hard target (C = 200)",
                        DQNConfig(target_update="hard", target_update_every=200), 6_000),
    "tau_0.02": Spec("replay + soft target, tau = 0.02", DQNConfig(tau=0.02), 6_000),
    "recommended": Spec("the recommended config", _RECOMMENDED, 15_000),
    "recommended_dqn": Spec("recommended, plain DQN target",
                            _RECOMMENDED.replace(double_dqn=False), 15_000),
    "recommended_dueling": Spec("recommended, dueling, plain DQN target",
                                _RECOMMENDED.replace(double_dqn=False, dueling=True), 15_000),
    "acrobot": Spec("recommended, Acrobot-v1", _RECOMMENDED, 20_000, "Acrobot-v1"),
    "mountain_car": Spec("recommended, MountainCar-v0", _RECOMMENDED, 20_000,
                         "MountainCar-v0"),
    "mountain_car_shaped": Spec("recommended, MountainCar-v0 with energy shaping",
                                _RECOMMENDED, 40_000, MOUNTAIN_CAR_SHAPED, "MountainCar-v0"),
}


def run_seed(spec: Spec, seed: int) -> dict:
    """One reference run: its trailing-mean curve and its greedy evaluations."""
    config, max_steps = spec.config, spec.max_steps
    result = train_dqn(config, env_id=spec.env_id, eval_env_id=spec.eval_env_id, seed=seed,
                       max_steps=max_steps, num_episodes=10**6, eval_every=EVAL_EVERY,
                       eval_episodes=EVAL_EPISODES)
    grid = np.arange(GRID, max_steps + 1, GRID)
    return {
        "curve": durations_vs_steps(result.episode_durations, grid, WINDOW),
        "eval_steps": list(result.eval_steps),
        "eval_returns": list(result.eval_returns),
        "solved_step": result.solved_step,
    }


def summarise(name: str, runs: list[dict], seeds: list[int], command: str) -> dict:
    label, config, max_steps, env_id, eval_env_id = SPECS[name]
    eval_env_id = eval_env_id or env_id
    threshold = solved_threshold(eval_env_id)
    grid = np.arange(GRID, max_steps + 1, GRID)
    curves = np.array([r["curve"] for r in runs])  # (n_seeds, n_grid)
    solved = [r["solved_step"] for r in runs]
    collapsed = []
    for r in runs:
        if r["solved_step"] is None:
            continue
        later = [g for s, g in zip(r["eval_steps"], r["eval_returns"], strict=True)
                 if s > r["solved_step"]]
        collapsed.append(bool(later) and min(later) < collapse_level(threshold))

    def q(p: float) -> list[float | None]:  # None (JSON null) where no run had an episode end
        return [None if np.isnan(v) else round(float(v), 2)
                for v in np.nanpercentile(curves, p, axis=0)]

    return {
        "label": label, "env_id": env_id, "eval_env_id": eval_env_id,
        "config": asdict(config), "seeds": seeds,
        "steps": grid.tolist(), "p10": q(10), "median": q(50), "p90": q(90),
        "frac_solved": [float(np.mean([s is not None and s <= k for s in solved]))
                        for k in grid],
        "solved_steps": solved, "collapsed": collapsed, "window": WINDOW,
        "eval_every": EVAL_EVERY, "eval_episodes": EVAL_EPISODES, "threshold": threshold,
        "helpers_version": helpers.__version__, "command": command,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", choices=sorted(SPECS), default=sorted(SPECS))
    parser.add_argument("--seeds", type=int, default=len(SEEDS),
                        help="how many of seeds 1000-1019 (default: all 20)")
    parser.add_argument("--out", type=Path, default=BANDS_PATH)
    parser.add_argument("--list", action="store_true", help="print the bands and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, spec in SPECS.items():
            print(f"{name:20s} {spec.max_steps:>6,d} steps  {spec.label}")
        return 0
    if not 1 <= args.seeds <= len(SEEDS):
        parser.error(f"--seeds must be from 1 to {len(SEEDS)}, got {args.seeds}")
    data = {"bands": {}}
    if args.out.exists():
        data = json.loads(args.out.read_text(encoding="utf-8"))
    seeds = list(SEEDS[: args.seeds])
    for name in args.names:
        start = time.perf_counter()
        runs = []
        for seed in seeds:
            runs.append(run_seed(SPECS[name], seed))
            print(f"  {name}: seed {seed} done ({time.perf_counter() - start:.0f} s)",
                  flush=True)
        command = f"python benchmarks/reference_bands.py --names {name} --seeds {args.seeds}"
        data["bands"][name] = summarise(name, runs, seeds, command)
        data["bands"] = dict(sorted(data["bands"].items()))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n",
                            encoding="utf-8")
        solved = data["bands"][name]["solved_steps"]
        print(f"{name}: {len(seeds)} runs in {time.perf_counter() - start:.0f} s; solved "
              f"{sum(s is not None for s in solved)}/{len(seeds)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
