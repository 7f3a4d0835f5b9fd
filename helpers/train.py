"""Train a DQN on CartPole from the command line -- lesson 06 without Jupyter.

Examples::

    python -m helpers.train --config recommended --seed 0
    python -m helpers.train --config seed --episodes 600 --out runs/seed-config

Prints progress, evaluates the greedy policy at the end, and writes into
``--out``: ``durations.png`` (the episode-duration plot), ``durations.csv`` and
``checkpoint.pt`` (load it with :func:`helpers.dqn.load_checkpoint`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

from helpers.dqn import DQNConfig, evaluate, save_checkpoint, solved_threshold, train_dqn


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.train",
        description="Train a Deep Q-Network (the series' lesson 06) outside Jupyter.",
    )
    parser.add_argument("--config", choices=["seed", "recommended"], default="recommended",
                        help="hyperparameters: the seed guide's, or the series' recommended ones")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--episodes", type=_positive_int, default=600,
                        help="most training episodes (default 600)")
    parser.add_argument("--max-steps", type=_positive_int, default=None,
                        help="stop after this many environment steps")
    parser.add_argument("--eval-every", type=_positive_int, default=2000,
                        help="evaluate the greedy policy every N env steps (default 2000)")
    parser.add_argument("--eval-episodes", type=_positive_int, default=50,
                        help="greedy episodes per evaluation (default 50); the best "
                             "evaluated network is the one kept")
    parser.add_argument("--stop-when-solved", action="store_true",
                        help="stop at the first evaluation with mean return >= 475")
    parser.add_argument("--env-id", default="CartPole-v1",
                        help="gymnasium id (default CartPole-v1)")
    parser.add_argument("--out", type=Path, default=Path("runs") / "dqn",
                        help="output folder (default runs/dqn)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seed < 0:
        raise SystemExit("error: --seed must be a non-negative integer")
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    from helpers.plotting import plot_durations

    config = DQNConfig() if args.config == "seed" else DQNConfig.recommended()
    threshold = solved_threshold(args.env_id)
    print(f"Training on {args.env_id} with the {args.config} config, seed {args.seed}:")
    print(f"  {config}")

    def report(episode: int, durations: list[int]) -> None:
        if (episode + 1) % 25 == 0:
            recent = durations[-100:]
            print(f"  episode {episode + 1:4d}  duration {durations[-1]:3d}  "
                  f"100-episode mean {sum(recent) / len(recent):6.1f}", flush=True)

    result = train_dqn(
        config, env_id=args.env_id, num_episodes=args.episodes, seed=args.seed,
        max_steps=args.max_steps, eval_every=args.eval_every, eval_episodes=args.eval_episodes,
        stop_when_solved=args.stop_when_solved, keep_best=True, callback=report,
    )
    print(f"Trained {result.total_steps} env steps in {result.train_seconds:.1f} s "
          f"({result.steps_per_second:.0f} steps/s, evaluation excluded).")
    if result.solved_step is not None:
        print(f"First solved at step {result.solved_step} "
              f"after {result.solved_seconds:.1f} s of training.")
    returns = evaluate(result.policy_net, args.env_id, n_episodes=20, seed=20_000)
    verdict = ""
    if threshold is not None:
        verdict = " -> solved" if returns.mean() >= threshold else " -> not solved"
    print(f"Greedy evaluation of the kept network over 20 new episodes: "
          f"mean {returns.mean():.1f}, min {returns.min():.0f}{verdict}")

    args.out.mkdir(parents=True, exist_ok=True)
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
    save_checkpoint(args.out / "checkpoint.pt", result.policy_net, config)
    print(f"Wrote {args.out / 'durations.png'}, {args.out / 'durations.csv'} "
          f"and {args.out / 'checkpoint.pt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
