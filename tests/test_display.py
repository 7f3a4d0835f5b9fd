"""helpers.display: progress bars and widgets whose saved text says something, and
train_dqn's per-step hook and env-step progress bar."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pytest
import torch

import helpers.display as display_module
from helpers.display import finish, progress_bar, show_widget
from helpers.dqn import Batch, DQNConfig, StepInfo, train_dqn

SMALL = DQNConfig.recommended().replace(learning_starts=64, batch_size=32)


def test_progress_bar_outside_notebook_is_text_tqdm(capsys):
    with progress_bar(total=10, desc="env steps") as bar:
        bar.update(4)
        finish(bar)
    assert bar.total == 4 and bar.n == 4
    err = capsys.readouterr().err
    assert "env steps" in err and "4/4" in err


def test_progress_bar_over_an_iterable():
    assert list(progress_bar(range(3), desc="runs", unit="run")) == [0, 1, 2]


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_progress_bar_rejects_bad_total(bad):
    with pytest.raises(ValueError, match="total"):
        progress_bar(total=bad)


class _FakeHandle:
    def __init__(self, bundle):
        self.bundles = [bundle]

    def update(self, bundle, raw=False):
        assert raw
        self.bundles.append(bundle)


def test_notebook_bar_saves_its_final_line(monkeypatch):
    """In a notebook the saved text/plain is the final bar line, not '0%| | 0/n'."""
    import IPython.display

    handles = []

    def fake_display(obj, raw=False, display_id=False):
        assert raw and display_id
        handles.append(_FakeHandle(obj))
        return handles[-1]

    monkeypatch.setattr(IPython.display, "display", fake_display)
    monkeypatch.setattr(display_module, "_in_notebook", lambda: True)
    bar = progress_bar(total=100, desc="env steps")
    bar.update(60)
    finish(bar)  # stopped early, normally: ends at 100 %
    (handle,) = handles
    first, last = handle.bundles[0], handle.bundles[-1]
    assert "0/100" in first["text/plain"]
    assert "100%" in last["text/plain"] and "60/60" in last["text/plain"]
    assert last["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert bar.container.children[1].bar_style == "success"


def test_notebook_bar_stays_red_when_cut_short(monkeypatch):
    import IPython.display

    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, raw=False, display_id=False: _FakeHandle(obj))
    monkeypatch.setattr(display_module, "_in_notebook", lambda: True)
    bar = progress_bar(total=100, desc="env steps")
    bar.update(30)
    bar.close()  # not finished: an interrupt or an error
    assert bar.container.children[1].bar_style == "danger"


def test_show_widget_uses_the_given_text(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, raw=False: shown.append((obj, raw)))
    slider = ipywidgets.FloatSlider(description="alpha")
    show_widget(slider, "A slider for alpha (run the notebook to use it).")
    ((bundle, raw),) = shown
    assert raw and bundle["text/plain"].startswith("A slider")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == slider.model_id


@pytest.mark.parametrize("widget, text, match", [
    (ipywidgets.IntSlider(), "", "text"),
    (ipywidgets.IntSlider(), None, "text"),
    ("not a widget", "some text", "widget"),
])
def test_show_widget_rejects_bad_input(widget, text, match):
    with pytest.raises(ValueError, match=match):
        show_widget(widget, text)


# --- train_dqn(on_step=..., progress=...) ------------------------------------------------


def test_on_step_sees_every_gradient_step_and_changes_nothing():
    plain = train_dqn(SMALL, seed=0, max_steps=400)
    infos = []

    def hook(info):
        assert isinstance(info, StepInfo) and isinstance(info.batch, Batch)
        with torch.no_grad():
            q_now = info.policy_net(info.batch.states)  # reading is free
        infos.append((info.step, info.episode, info.loss, info.q_sa.clone(), q_now.shape,
                      info.epsilon))

    hooked = train_dqn(SMALL, seed=0, max_steps=400, on_step=hook)
    assert hooked.episode_durations == plain.episode_durations
    assert hooked.losses == plain.losses
    assert len(infos) == len(plain.losses) == 400 - 64 + 1
    steps = [i[0] for i in infos]
    assert steps == list(range(64, 401))
    assert [i[2] for i in infos] == plain.losses
    assert all(i[3].shape == (32,) and not i[3].requires_grad for i in infos)
    assert infos[0][4] == (32, 2)
    np.testing.assert_allclose([i[3].mean().item() for i in infos], plain.mean_q, rtol=1e-6)
    assert [i[5] for i in infos] == plain.epsilons[63:]
    episodes = [i[1] for i in infos]
    assert episodes == sorted(episodes) and episodes[-1] == len(plain.episode_durations) - 1


def test_on_step_must_be_callable():
    with pytest.raises(ValueError, match="on_step"):
        train_dqn(SMALL, seed=0, max_steps=10, on_step="print")


def test_on_step_exception_carries_the_run():
    def hook(info):
        if info.step == 100:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here") as caught:
        train_dqn(SMALL, seed=0, max_steps=400, on_step=hook)
    assert caught.value.result.total_steps == 100


def test_progress_counts_env_steps_and_ends_complete(monkeypatch):
    bars = []
    real = display_module.progress_bar

    def spy(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(display_module, "progress_bar", spy)
    result = train_dqn(SMALL, seed=0, max_steps=300, progress=True)
    (bar,) = bars
    assert bar.n == bar.total == result.total_steps == 300
    # out of episodes before the budget: still ends at 100 %
    bars.clear()
    result = train_dqn(SMALL, seed=0, num_episodes=3, max_steps=10_000, progress=True)
    (bar,) = bars
    assert bar.n == bar.total == result.total_steps < 10_000
