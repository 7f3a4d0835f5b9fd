"""The command-line trainer: a short run writes its plot, data and a loadable checkpoint."""

import pytest

from helpers.dqn import DQNConfig, load_checkpoint
from helpers.train import main


def test_cli_short_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--config", "seed", "--episodes", "30", "--max-steps", "400",
                 "--eval-every", "200", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Trained 400 env steps" in printed and "Greedy evaluation" in printed
    assert (out / "durations.png").stat().st_size > 0
    lines = (out / "durations.csv").read_text().splitlines()
    assert lines[0] == "episode,duration" and len(lines) > 1
    net, config = load_checkpoint(out / "checkpoint.pt")
    assert config == DQNConfig()


@pytest.mark.parametrize("argv", [["--episodes", "0"], ["--config", "fast"], ["--seed", "-1"]])
def test_cli_rejects_bad_arguments(argv):
    with pytest.raises(SystemExit):
        main(argv)
