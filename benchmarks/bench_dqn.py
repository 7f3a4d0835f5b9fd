"""Benchmarks for the series' DQN trainer (``helpers.dqn``).

Two modes, run from the repository root:

``speed``
    Env steps per second of the seed guide's code (``seed_reference.py``) and of
    ``train_dqn`` with the seed's config, on the same seed for the same number of
    env steps, in one process and interleaved (reference, ours, reference, ours,
    ...) so that a change in machine load hits both. One torch thread. Prints the
    median over ``--repeats`` and the ratio ours / reference. The reference runs
    with torch's defaults (denormal floats kept), as the seed's code does;
    ``train_dqn`` flushes denormals (``helpers.runtime.set_cpu_threads``), so a
    third row runs the reference with them flushed too, to show that setting's
    share of the ratio::

        python benchmarks/bench_dqn.py speed --steps 10000 --repeats 3
        python benchmarks/bench_dqn.py speed --config recommended   # add a fourth row

``solve``
    Time and steps to *solved* over several seeds for one config. Every
    ``--eval-every`` env steps the trainer evaluates the greedy policy on 20
    episodes; the first evaluation with a mean >= 475 (CartPole-v1's
    ``reward_threshold``) counts as solved. At the end of the run the network the
    trainer returns is evaluated again on 20 *held-out* episodes (seeds
    20,000-20,019, never used in training or in the evaluations during training):
    "still solved at end" means that mean is >= 475 too::

        python benchmarks/bench_dqn.py solve --config recommended --seeds 10
        python benchmarks/bench_dqn.py solve --config seed --seeds 5 --max-steps 60000
        python benchmarks/bench_dqn.py solve --config recommended --set lr=3e-4 --set hidden=128

    Steps to solved depend only on the seed (the trainer is deterministic), so
    they are a fair way to compare configs on a busy machine; seconds are not.

The output is a Markdown table, ready to paste into the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `seed_reference`

from seed_reference import run_seed_reference  # noqa: E402

from helpers.dqn import DQNConfig, evaluate, train_dqn  # noqa: E402
from helpers.runtime import set_cpu_threads  # noqa: E402

SOLVED = 475.0
"""CartPole-v1's reward threshold: a greedy mean return over 20 episodes of at least this."""
HELD_OUT_SEED = 20_000
"""First reset seed of the 20 held-out evaluation episodes (training evaluations use 10,000+)."""

# How long `solve` trains each config by default, and whether it keeps the best network.
# See benchmarks/RESULTS.md for why.
RUN_DEFAULTS: dict[str, dict[str, Any]] = {
    "seed": {"max_steps": 60_000, "keep_best": False, "eval_episodes": 20},
    # keep_best picks a network by its evaluation, so that evaluation uses 50 episodes: with
    # 20, some kept networks that scored 500 fell below 475 on held-out episodes.
    "recommended": {"max_steps": 30_000, "keep_best": True, "eval_episodes": 50},
}


# --------------------------------------------------------------------------- helpers


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    """CPU model, core count, Python and torch versions, in one line."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()}, Python "
            f"{platform.python_version()}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} torch thread(s)")


def parse_value(text: str) -> Any:
    """``"None"`` -> None, ``"true"/"false"`` -> bool, then int, then float, else the string."""
    if text.lower() == "none":
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["lr=3e-4", "double_dqn=true"]`` -> ``{"lr": 0.0003, "double_dqn": True}``."""
    known = {f.name for f in fields(DQNConfig)}
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in known:
            raise SystemExit(f"--set expects key=value with key one of {sorted(known)}, "
                             f"got {pair!r}")
        overrides[key] = parse_value(value)
    return overrides


def make_config(name: str, overrides: dict[str, Any]) -> DQNConfig:
    base = DQNConfig.recommended() if name == "recommended" else DQNConfig()
    return base.replace(**overrides) if overrides else base


def describe_config(config: DQNConfig) -> str:
    """The fields that differ from the seed's config, e.g. ``lr=0.001, hidden=64``."""
    seed_config = asdict(DQNConfig())
    changed = [f"{k}={v!r}" for k, v in asdict(config).items() if seed_config[k] != v]
    return ", ".join(changed) if changed else "(the seed's config)"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(x: float | None, spec: str) -> str:
    return "–" if x is None else format(x, spec)


# --------------------------------------------------------------------------- speed


def cmd_speed(args: argparse.Namespace) -> None:
    set_cpu_threads(1)
    runners: list[tuple[str, Callable[[], float]]] = [
        ("seed reference script", lambda: _speed_reference(args.seed, args.steps, False)),
        ("train_dqn, seed config", lambda: _speed_ours(DQNConfig(), args.seed, args.steps)),
        ("seed reference, denormals flushed",
         lambda: _speed_reference(args.seed, args.steps, True)),
    ]
    if args.config == "recommended":
        runners.append(("train_dqn, recommended config",
                        lambda: _speed_ours(DQNConfig.recommended(), args.seed, args.steps)))
    print(f"Machine: {machine_description()}")
    print(f"Env steps per run: {args.steps:,}, seed {args.seed}, repeats {args.repeats}, "
          "interleaved\n", flush=True)
    rates: dict[str, list[float]] = {name: [] for name, _ in runners}
    for repeat in range(args.repeats):
        for name, run in runners:
            rate = run()
            rates[name].append(rate)
            print(f"  repeat {repeat + 1}: {name:<34} {rate:8,.0f} steps/s", flush=True)
    ref = median(rates[runners[0][0]])
    print("\n| trainer | env steps/s (median) | runs | × seed reference |")
    print("|---|---:|---|---:|")
    for name, _ in runners:
        runs = ", ".join(f"{r:,.0f}" for r in rates[name])
        print(f"| {name} | {median(rates[name]):,.0f} | {runs} | "
              f"{median(rates[name]) / ref:.2f} |")
    ours = median(rates[runners[1][0]])
    print(f"\nRatio train_dqn (seed config) / seed reference: {ours / ref:.2f}")
    flushed = median(rates[runners[2][0]])
    print(f"Ratio train_dqn (seed config) / seed reference with denormals flushed too: "
          f"{ours / flushed:.2f}")


def _speed_reference(seed: int, steps: int, flush_denormal: bool) -> float:
    # The seed's code as written runs with torch's default, denormals kept;
    # train_dqn flushes them (set_cpu_threads). The flushed row shows that setting's share.
    torch.set_flush_denormal(flush_denormal)
    out = run_seed_reference(seed=seed, max_steps=steps)
    return out["steps"] / out["seconds"]


def _speed_ours(config: DQNConfig, seed: int, steps: int) -> float:
    result = train_dqn(config, max_steps=steps, num_episodes=10**9, seed=seed, device="cpu")
    return result.steps_per_second


# --------------------------------------------------------------------------- solve


def cmd_solve(args: argparse.Namespace) -> None:
    set_cpu_threads(1)  # what train_dqn uses (num_threads=1)
    config = make_config(args.config, parse_overrides(args.set))
    defaults = RUN_DEFAULTS[args.config]
    max_steps = args.max_steps if args.max_steps is not None else defaults["max_steps"]
    keep_best = args.keep_best if args.keep_best is not None else defaults["keep_best"]
    if args.eval_episodes is None:
        args.eval_episodes = defaults["eval_episodes"]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    # With keep_best the returned network may not be the last one; report on both.
    report_online = keep_best and not args.stop_when_solved

    print(f"Machine: {machine_description()}")
    print(f"Config: {args.config}: {describe_config(config)}")
    print(f"Run: seeds {seeds[0]}-{seeds[-1]}, max_steps={max_steps:,}, "
          f"eval_every={args.eval_every:,} ({args.eval_episodes} greedy episodes, "
          f"solved = mean >= {SOLVED:.0f}), "
          f"keep_best={keep_best}, stop_when_solved={args.stop_when_solved}")
    online_note = "; final online = the last online network, same episodes" if report_online else ""
    print(f"'end' = the returned network on 20 held-out episodes (reset seeds "
          f"{HELD_OUT_SEED:,}+){online_note}\n")
    head = ("| seed | steps to solved | train s to solved | best eval (step) | end mean "
            "| still solved at end |")
    rule = "|---:|---:|---:|---:|---:|:---:|"
    if report_online:
        head += " final online mean | final online solved |"
        rule += "---:|:---:|"
    head += " steps/s |"
    rule += "---:|"
    print(head)
    print(rule, flush=True)

    solved_steps, solved_seconds, end_solved, online_solved = [], [], 0, 0
    for seed in seeds:
        result = train_dqn(config, seed=seed, max_steps=max_steps, num_episodes=10**9,
                           eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                           keep_best=keep_best, stop_when_solved=args.stop_when_solved,
                           device="cpu")
        if result.solved_step is not None:
            solved_steps.append(result.solved_step)
            solved_seconds.append(result.solved_seconds)
        row = (f"| {seed} | {fmt(result.solved_step, ',d')} | {fmt(result.solved_seconds, '.1f')} "
               f"| {fmt(result.best_eval_return, '.0f')} ({fmt(result.best_eval_step, ',d')}) |")
        if args.stop_when_solved:
            row += " – | – |"
        else:
            end_mean = float(evaluate(result.policy_net, n_episodes=20, seed=HELD_OUT_SEED).mean())
            end_solved += end_mean >= SOLVED
            row += f" {end_mean:.0f} | {'yes' if end_mean >= SOLVED else 'no'} |"
        if report_online:
            online_mean = float(evaluate(result.final_net, n_episodes=20,
                                         seed=HELD_OUT_SEED).mean())
            online_solved += online_mean >= SOLVED
            row += f" {online_mean:.0f} | {'yes' if online_mean >= SOLVED else 'no'} |"
        row += f" {result.steps_per_second:,.0f} |"
        print(row, flush=True)

    n = len(seeds)
    summary = (f"\nSolved {len(solved_steps)}/{n}; median to solved: "
               f"{fmt(median(solved_steps) if solved_steps else None, ',.0f')} steps, "
               f"{fmt(median(solved_seconds) if solved_seconds else None, '.1f')} s (training "
               "time, evaluation excluded; unsolved seeds left out)")
    if not args.stop_when_solved:
        summary += f"; still solved at end {end_solved}/{n}"
    if report_online:
        summary += f"; final online network solved {online_solved}/{n}"
    print(summary)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)

    speed = sub.add_parser("speed", help="env steps/s: seed reference script vs train_dqn")
    speed.add_argument("--steps", type=int, default=10_000, help="env steps per run")
    speed.add_argument("--seed", type=int, default=0)
    speed.add_argument("--repeats", type=int, default=2, help="runs of each trainer")
    speed.add_argument("--config", choices=["seed", "recommended"], default="seed",
                       help="'recommended' also times DQNConfig.recommended()")
    speed.set_defaults(func=cmd_speed)

    solve = sub.add_parser("solve", help="steps and seconds to solved over several seeds")
    solve.add_argument("--config", choices=["seed", "recommended"], default="recommended")
    solve.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a DQNConfig field (repeatable), e.g. --set lr=3e-4")
    solve.add_argument("--seeds", type=int, default=10, help="how many seeds")
    solve.add_argument("--first-seed", type=int, default=0)
    solve.add_argument("--max-steps", type=int, default=None,
                       help=f"env steps per run (default per config: "
                            f"{ {k: v['max_steps'] for k, v in RUN_DEFAULTS.items()} })")
    solve.add_argument("--eval-every", type=int, default=2_000)
    solve.add_argument("--eval-episodes", type=int, default=None,
                       help="greedy episodes per evaluation during training "
                            "(default per config: seed 20, recommended 50)")
    solve.add_argument("--keep-best", action=argparse.BooleanOptionalAction, default=None,
                       help="return the best evaluated network (default per config: "
                            f"{ {k: v['keep_best'] for k, v in RUN_DEFAULTS.items()} })")
    solve.add_argument("--stop-when-solved", action="store_true",
                       help="for quick screening: stop each run at its first solved evaluation")
    solve.set_defaults(func=cmd_solve)

    args = parser.parse_args(argv)
    start = time.perf_counter()
    args.func(args)
    print(f"\n(benchmark wall time {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
