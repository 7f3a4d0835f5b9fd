"""Lesson 08 as committed, and the LunarLander benchmark behind its section 4: the data and
the checkpoint it shows were made by the committed script with today's config."""

import json
import re
from dataclasses import asdict

import pytest
from notebook_files import ROOT, code_sources, lesson_cells, load_script, source_of

from helpers.dqn import DQNConfig, load_checkpoint

DATA = ROOT / "helpers" / "data"


def _script():
    return load_script("benchmarks/lunar_lander.py")


@pytest.fixture(scope="module")
def cells():
    return lesson_cells("08")


def _printed(cells):
    return "".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_committed_lunar_lander_runs_are_the_script_s():
    data = json.loads((DATA / "lunar_lander_runs.json").read_text(encoding="utf-8"))
    script = _script()
    assert data["config"] == asdict(script.CONFIG)
    assert data["env_id"] == "LunarLander-v3" and data["threshold"] == 200
    assert len(data["runs"]) == 3 and [r["seed"] for r in data["runs"]] == [0, 1, 2]
    for run in data["runs"]:
        assert len(run["episode_durations"]) == len(run["episode_returns"])
        assert sum(run["episode_durations"]) == data["max_steps"]
        assert run["eval_steps"] == list(range(data["eval_every"], data["max_steps"] + 1,
                                               data["eval_every"]))
    net, config = load_checkpoint(DATA / "lunar_lander_dqn.pt")
    assert config == script.CONFIG and (DATA / "lunar_lander_dqn.pt").stat().st_size < 200_000
    assert net.layer1.in_features == 8 and net.layer3.out_features == 4


def test_lunar_lander_script_runs(tmp_path):
    assert _script().main(["--seeds", "1", "--steps", "5000", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "lunar_lander_runs.json").read_text(encoding="utf-8"))
    assert data["max_steps"] == 5000 and len(data["runs"]) == 1
    assert load_checkpoint(tmp_path / "lunar_lander_dqn.pt")[1] == DQNConfig(**data["config"])


def test_trains_with_train_dqn_not_a_copy_of_the_loop(cells):
    code = "\n".join(code_sources(cells))
    assert code.count("train_dqn(") >= 3
    for loop_piece in ("FlatAdamW", "flatten_parameters", "lerp_(", "memory.push"):
        assert loop_piece not in code, f"the lesson re-implements train_dqn ({loop_piece})"


def test_no_wall_clock_asserts(cells):
    for text in code_sources(cells):
        for line in text.splitlines():
            if line.lstrip().startswith("assert"):
                assert not re.search(r"seconds|hours|perf_counter", line), line


def test_every_figure_is_titled_and_labelled(cells):
    figures = [c for c in cells if c["cell_type"] == "code"
               and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert len(figures) >= 5
    for cell in figures:
        text = source_of(cell)
        if "LivePlot(" in text:
            assert "title=" in text and "reference=" in text
            continue
        assert "set_title(" in text or "suptitle(" in text, text[:200]
        assert "set_xlabel(" in text and "set_ylabel(" in text, text[:200]
        assert "legend(" in text or "imshow(" in text, text[:200]


def test_results_table_is_printed_from_the_runs(cells):
    printed = _printed(cells)
    for env_id in ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3"):
        assert re.search(rf"^{env_id}\s+\S.*\d+/\d+", printed, re.M), env_id
    assert "the reward (shaping)" in printed and "gamma, memory_size, eps_decay" in printed


def test_section_4_is_labelled_as_not_trained_here(cells):
    markdown = "\n".join(source_of(c) for c in cells if c["cell_type"] == "markdown")
    assert "not trained here" in markdown
    assert any("benchmark, not run here" in t for t in code_sources(cells))
