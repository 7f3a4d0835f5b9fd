"""``python -m helpers.train``: everything checked before training, one-line errors with a
non-zero exit status, and nothing lost on Ctrl-C or divergence."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import helpers.train as train_module
from helpers.dqn import DQNConfig, load_checkpoint
from helpers.train import main

REPO = Path(__file__).resolve().parent.parent
SHORT = ["--config", "seed", "--max-steps", "300", "--eval-every", "150", "--eval-episodes", "2"]

gym.register(id="RobustnessCartPoleNoThreshold-v0",
             entry_point="gymnasium.envs.classic_control:CartPoleEnv", max_episode_steps=50)


def _fails_in_one_line(argv, capsys, match):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("python -m helpers.train: error: ") and match in err, err


@pytest.mark.parametrize(
    ("env_id", "match"),
    [
        ("NoSuchEnv-v0", "registered gymnasium id"),
        ("Pendulum-v1", "discrete action space"),  # continuous actions
        ("FrozenLake-v1", "vector observations"),
    ],
)
def test_bad_env_id_is_one_line_before_training(tmp_path, capsys, env_id, match):
    out = tmp_path / "run"
    _fails_in_one_line(["--env-id", env_id, "--out", str(out)], capsys, match)
    assert not out.exists()  # nothing trained, nothing written


def test_stop_when_solved_needs_a_threshold(tmp_path, capsys):
    _fails_in_one_line(["--env-id", "RobustnessCartPoleNoThreshold-v0", "--stop-when-solved",
                        "--out", str(tmp_path / "run")], capsys, "no reward threshold")


@pytest.mark.parametrize("argv", [["--seed", "-1"], ["--seed", "1.5"], ["--episodes", "0"],
                                  ["--eval-episodes", "x"], ["--config", "fast"]])
def test_bad_numbers_are_one_line(tmp_path, capsys, argv):
    _fails_in_one_line([*argv, "--out", str(tmp_path / "run")], capsys, "argument --")


def test_out_must_be_a_writable_folder_before_training(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    _fails_in_one_line(["--out", str(a_file)], capsys, "is a file, not a folder")
    _fails_in_one_line(["--out", str(a_file / "run")], capsys, "not a folder this program can")
    (tmp_path / "run" / "checkpoint.pt").mkdir(parents=True)
    _fails_in_one_line(["--out", str(tmp_path / "run")], capsys, "folder named checkpoint.pt")
    assert a_file.read_text() == "not a folder"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not bind the superuser")
def test_read_only_out_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o500)
    try:
        _fails_in_one_line(["--out", str(out)], capsys, "not a folder this program can write")
    finally:
        out.chmod(0o700)


def test_earlier_results_are_announced_and_replaced(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("durations.csv", "checkpoint.pt"):
        (out / name).write_text("an earlier run")
    assert main([*SHORT, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Note: durations.csv, checkpoint.pt in {out} (an earlier run) will be replaced" \
        in printed
    assert (out / "durations.csv").read_text().startswith("episode,duration\n1,")
    load_checkpoint(out / "checkpoint.pt")


def _interrupt_at_episode(monkeypatch, n):
    """Make main's training raise KeyboardInterrupt after episode n, as Ctrl-C would."""
    real_train_dqn = train_module.train_dqn

    def train_dqn(*args, callback, **kwargs):
        def interrupting(episode, durations):
            callback(episode, durations)
            if episode == n:
                raise KeyboardInterrupt

        return real_train_dqn(*args, callback=interrupting, **kwargs)

    monkeypatch.setattr(train_module, "train_dqn", train_dqn)


def test_interrupt_saves_the_run_so_far(tmp_path, capsys, monkeypatch):
    _interrupt_at_episode(monkeypatch, 9)
    out = tmp_path / "run"
    assert main(["--config", "seed", "--eval-every", "100", "--eval-episodes", "2",
                 "--out", str(out)]) == 130
    printed = capsys.readouterr().out
    assert "Interrupted at env step" in printed and "saving the run so far" in printed
    assert "Checkpoint: the best evaluated network" in printed
    assert "Greedy evaluation" not in printed  # no further work after Ctrl-C
    assert len((out / "durations.csv").read_text().splitlines()) == 1 + 10
    assert (out / "durations.png").stat().st_size > 0
    _, config = load_checkpoint(out / "checkpoint.pt")
    assert config == DQNConfig()


def test_divergence_saves_the_story_and_only_a_finite_network(tmp_path, capsys, monkeypatch):
    diverging = DQNConfig(lr=1e10)  # a NaN loss by the third gradient step (env step 130)
    monkeypatch.setattr(DQNConfig, "recommended", classmethod(lambda cls: diverging))
    out = tmp_path / "run"
    assert main(["--max-steps", "400", "--eval-every", "100", "--eval-episodes", "2",
                 "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "error: training diverged at env step 130" in captured.err
    assert "Checkpoint: the best evaluated network, step 100" in captured.out
    net, _ = load_checkpoint(out / "checkpoint.pt")
    assert all(torch.isfinite(p).all() for p in net.parameters())
    # no evaluation before the divergence: no finite network to keep, and no stale file left
    assert main(["--max-steps", "400", "--eval-every", "200", "--out", str(out)]) == 1
    assert "No checkpoint: net has NaN" in capsys.readouterr().err
    assert not (out / "checkpoint.pt").exists() and (out / "durations.csv").exists()


def test_ctrl_c_in_a_real_process(tmp_path):
    """A real SIGINT to ``python -m helpers.train``: it saves, says so and exits with 130."""
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "helpers.train", "--config", "seed", "--episodes",
         "100000", "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # a child started from a background job may inherit an ignored SIGINT: restore it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for line in process.stdout:
            if line.startswith("  episode   25"):  # training is under way
                process.send_signal(signal.SIGINT)
                break
        rest = process.communicate(timeout=120)[0]
    finally:
        process.kill()
    assert process.returncode == 130, rest
    assert "Interrupted at env step" in rest and "Traceback" not in rest
    assert len((out / "durations.csv").read_text().splitlines()) >= 1 + 25
    load_checkpoint(out / "checkpoint.pt")
