"""Train a DQN on CartPole from the command line -- lesson 06 without Jupyter.

Examples::

    python -m helpers.train --config recommended --seed 0
    python -m helpers.train --config seed --episodes 600 --out runs/seed-config

Prints progress, evaluates the greedy policy at the end, and writes into
``--out``: ``durations.png`` (the episode-duration plot), ``durations.csv`` and
``checkpoint.pt`` (load it with :func:`helpers.dqn.load_checkpoint`); files of an
earlier run there are replaced.

Every argument, the environment and the output folder are checked before
training starts; a problem is reported in one line, with exit status 2. Ctrl-C
stops training and still writes the three files for the run so far (exit status
130); so does a run that diverges (exit status 1), except the checkpoint when the
network kept is not finite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib

from helpers.dqn import (
    DQNConfig,
    DQNResult,
    TrainingDiverged,
    TrainingInterrupted,
    evaluate,
    make_env,
    save_checkpoint,
    solved_threshold,
    train_dqn,
)
from helpers.validation import MAX_SEED, as_int

OUTPUTS = ("durations.png", "durations.csv", "checkpoint.pt")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One line, ``python -m helpers.train: error: ...``, and exit status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _int_at_least(low: int, high: int | None = None, allowed: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[low, high]``, with a one-line error."""

    def parse(text: str) -> int:
        try:
            return as_int(int(text), "value", low, high)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {allowed or f'an integer >= {low}'}, got {text!r}") from None

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m helpers.train",
        description="Train a Deep Q-Network (the series' lesson 06) outside Jupyter.",
    )
    parser.add_argument("--config", choices=["seed", "recommended"], default="recommended",
                        help="hyperparameters: the seed guide's, or the series' recommended ones")
    parser.add_argument("--seed", default=0,
                        type=_int_at_least(0, MAX_SEED, "an integer in [0, 2**64 - 1]"),
                        help="random seed (default 0)")
    parser.add_argument("--episodes", type=_int_at_least(1), default=600,
                        help="most training episodes (default 600)")
    parser.add_argument("--max-steps", type=_int_at_least(1), default=None,
                        help="stop after this many environment steps")
    parser.add_argument("--eval-every", type=_int_at_least(1), default=2000,
                        help="evaluate the greedy policy every N env steps (default 2000)")
    parser.add_argument("--eval-episodes", type=_int_at_least(1), default=50,
                        help="greedy episodes per evaluation (default 50); the best "
                             "evaluated network is the one kept")
    parser.add_argument("--stop-when-solved", action="store_true",
                        help="stop at the first evaluation with mean return >= 475")
    parser.add_argument("--env-id", default="CartPole-v1",
                        help="gymnasium id with discrete actions and vector observations "
                             "(default CartPole-v1)")
    parser.add_argument("--out", type=Path, default=Path("runs") / "dqn",
                        help="output folder (default runs/dqn)")
    return parser


def _check_out(out: Path) -> str | None:
    """Create the folder ``out`` and try writing in it; an error message, or None if fine."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        return f"--out {out} is not a folder this program can write to ({exc.strerror})"
    for name in OUTPUTS:
        if (out / name).is_dir():
            return f"--out {out} holds a folder named {name}, where a file will be written"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:  # the environment, before any training
        make_env(args.env_id).close()
        threshold = solved_threshold(args.env_id)
    except ValueError as exc:
        parser.error(f"--env-id: {exc}")
    if args.stop_when_solved and threshold is None:
        parser.error(f"--stop-when-solved: {args.env_id} has no reward threshold")
    problem = _check_out(args.out)
    if problem is not None:
        parser.error(problem)
    earlier = [name for name in OUTPUTS if (args.out / name).exists()]
    if earlier:
        print(f"Note: {', '.join(earlier)} in {args.out} (an earlier run) will be replaced.")

    config = DQNConfig() if args.config == "seed" else DQNConfig.recommended()
    print(f"Training on {args.env_id} with the {args.config} config, seed {args.seed}:")
    print(f"  {config}")

    def report(episode: int, durations: list[int]) -> None:
        if (episode + 1) % 25 == 0:
            recent = durations[-100:]
            print(f"  episode {episode + 1:4d}  duration {durations[-1]:3d}  "
                  f"100-episode mean {sum(recent) / len(recent):6.1f}", flush=True)

    status = 0
    try:
        result = train_dqn(
            config, env_id=args.env_id, num_episodes=args.episodes, seed=args.seed,
            max_steps=args.max_steps, eval_every=args.eval_every,
            eval_episodes=args.eval_episodes, stop_when_solved=args.stop_when_solved,
            keep_best=True, callback=report,
        )
    except TrainingInterrupted as exc:
        result, status = exc.result, 130
        print(f"\nInterrupted at env step {result.total_steps}: saving the run so far.")
    except TrainingDiverged as exc:
        result, status = exc.result, 1
        print(f"error: {exc}", file=sys.stderr)
    print(f"Trained {result.total_steps} env steps in {result.train_seconds:.1f} s "
          f"({result.steps_per_second:.0f} steps/s, evaluation excluded).")
    if result.solved_step is not None:
        print(f"First solved at step {result.solved_step} "
              f"after {result.solved_seconds:.1f} s of training.")
    if status == 0:
        returns = evaluate(result.policy_net, args.env_id, n_episodes=20, seed=20_000)
        verdict = ""
        if threshold is not None:
            verdict = " -> solved" if returns.mean() >= threshold else " -> not solved"
        print(f"Greedy evaluation of the kept network over 20 new episodes: "
              f"mean {returns.mean():.1f}, min {returns.min():.0f}{verdict}")
    _save(result, args, threshold)
    return status


def _save(result: DQNResult, args: argparse.Namespace, threshold: float | None) -> None:
    """Write the plot, the durations and (if its weights are finite) the kept network."""
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    from helpers.plotting import plot_durations

    fig, ax = plt.subplots(figsize=(8, 4))
    plot_durations(result.episode_durations, ax=ax, threshold=threshold,
                   title=f"DQN on {args.env_id} ({args.config} config, seed {args.seed})")
    fig.tight_layout()
    fig.savefig(args.out / "durations.png", dpi=100)
    plt.close(fig)
    (args.out / "durations.csv").write_text(
        "episode,duration\n"
        + "".join(f"{i + 1},{d}\n" for i, d in enumerate(result.episode_durations))
    )
    written = [args.out / "durations.png", args.out / "durations.csv"]
    if result.best_eval_step is not None:
        kept = f"the best evaluated network, step {result.best_eval_step}"
    else:
        kept = f"the network at step {result.total_steps}"
    try:
        written.append(save_checkpoint(args.out / "checkpoint.pt", result.policy_net,
                                       result.config))
    except ValueError as exc:  # a diverged network with no finite one kept
        (args.out / "checkpoint.pt").unlink(missing_ok=True)  # not an earlier run's either
        print(f"No checkpoint: {exc}", file=sys.stderr)
    else:
        print(f"Checkpoint: {kept}.")
    print(f"Wrote {', '.join(str(path) for path in written)}")


if __name__ == "__main__":
    sys.exit(main())
