"""``helpers.dqn`` under the inputs learners really give it: NumPy numbers, bad values,
diverging runs, the stop button, environments other than CartPole.

The rule everywhere: NumPy numbers are accepted and stored as Python numbers, ``bool`` is
not an integer, NaN and infinity are refused, and a bad value raises ``ValueError``
naming the argument and what it may be. Valid inputs give exactly the numbers they gave
before (``tests/test_dqn.py`` pins those).
"""

import copy
import math
import os
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.classic_control import CartPoleEnv

import helpers.dqn as dqn_module
from helpers.dqn import (
    DQN,
    Batch,
    DQNConfig,
    DuelingDQN,
    FlatAdamW,
    ReplayBuffer,
    ReplayMemory,
    TrainingDiverged,
    TrainingInterrupted,
    dqn_loss,
    dqn_loss_backward,
    evaluate,
    flatten_parameters,
    hard_update,
    load_checkpoint,
    make_env,
    save_checkpoint,
    soft_update,
    solved_threshold,
    td_target,
    train_dqn,
)
from helpers.runtime import denormals_flushed

SMALL = DQNConfig(hidden=32, batch_size=32, memory_size=1000)
DIVERGING = SMALL.replace(lr=1e10)  # NaN loss by the third gradient step


def _finite(net):
    return all(bool(torch.isfinite(p).all()) for p in net.parameters())


def _same_run(a, b):
    return (a.episode_durations == b.episode_durations and a.losses == b.losses
            and all(torch.equal(p, q) for p, q in zip(a.policy_net.parameters(),
                                                      b.policy_net.parameters(), strict=True)))


# --------------------------------------------------------------------------- NumPy numbers


def test_config_stores_numpy_numbers_as_python_numbers(tmp_path):
    config = DQNConfig(batch_size=np.int64(32), memory_size=np.int64(1000), hidden=np.int32(32),
                       lr=np.float64(1e-3), gamma=np.float32(0.5), eps_decay=np.int64(500),
                       amsgrad=np.bool_(False), learning_starts=np.int64(64))
    assert type(config.batch_size) is int and type(config.learning_starts) is int
    assert type(config.lr) is float and config.lr == 1e-3 and config.gamma == 0.5
    assert type(config.eps_decay) is float and type(config.amsgrad) is bool
    # the checkpoint of such a config loads (NumPy scalars used to make it "corrupt")
    net = DQN(4, 2, hidden=32)
    _, loaded = load_checkpoint(save_checkpoint(tmp_path / "c.pt", net, config))
    assert loaded == config


def test_train_dqn_takes_numpy_numbers_and_gives_the_same_run():
    as_python = train_dqn(SMALL, seed=3, max_steps=200, eval_every=100, eval_episodes=2)
    as_numpy = train_dqn(
        DQNConfig(hidden=np.int64(32), batch_size=np.int64(32), memory_size=np.int64(1000)),
        seed=np.int64(3), max_steps=np.int64(200), eval_every=np.int64(100),
        eval_episodes=np.int64(2), num_threads=np.int64(1), num_episodes=np.int64(600))
    assert _same_run(as_python, as_numpy) and as_python.eval_returns == as_numpy.eval_returns
    assert type(as_numpy.seed) is int


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"seed": True}, "seed"), ({"seed": 1.0}, "seed"), ({"seed": 2**64}, "seed"),
        ({"num_episodes": False}, "num_episodes"), ({"max_steps": 10.0}, "max_steps"),
        ({"eval_every": True}, "eval_every"),
        ({"eval_episodes": 0}, "eval_episodes"), ({"eval_episodes": 2.0}, "eval_episodes"),
        ({"num_threads": 0}, "num_threads"), ({"num_threads": True}, "num_threads"),
        ({"callback": "plot"}, "callback"), ({"progress": "yes"}, "progress"),
        ({"keep_best": 1, "eval_every": 10}, "keep_best"), ({"device": "tpu"}, "device"),
        ({"env_id": 3}, "env_id"), ({"env_id": "FrozenLake-v1"}, "env_id"),
        ({"env_id": "NoSuchEnv-v0", "stop_when_solved": True, "eval_every": 10}, "env_id"),
    ],
)
def test_train_dqn_names_every_bad_argument_before_running(kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_dqn(SMALL, **{"max_steps": 50, **kwargs})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lr", math.inf), ("lr", math.nan), ("weight_decay", math.inf), ("gamma", math.nan),
        ("tau", np.float64("nan")), ("eps_decay", math.inf), ("grad_clip_value", math.inf),
        ("grad_clip_norm", math.nan), ("lr", 10**400), ("batch_size", True),
        ("amsgrad", "yes"), ("use_replay", 1), ("double_dqn", None), ("loss", "huber"),
        ("learning_starts", 10), ("learning_starts", 5000), ("memory_size", np.int64(16)),
    ],
)
def test_config_refuses_non_finite_and_wrongly_typed_values(field, value):
    with pytest.raises(ValueError, match=field):
        SMALL.replace(**{field: value})


def test_learning_starts_must_be_reachable():
    # used to crash mid-run (< batch_size) or silently never learn (> memory_size)
    with pytest.raises(ValueError, match=r"learning_starts must be an integer in \[32, 1000\]"):
        SMALL.replace(learning_starts=1001)
    with pytest.raises(ValueError, match="without replay"):
        SMALL.replace(use_replay=False, learning_starts=200)
    assert SMALL.replace(learning_starts=1000).learning_starts == 1000


# --------------------------------------------------------------------------- divergence


def test_divergence_is_reported_with_the_step_advice_and_the_run_so_far():
    with pytest.raises(TrainingDiverged, match="lr") as info:
        train_dqn(DIVERGING, seed=0, max_steps=400)
    error, result = info.value, info.value.result
    assert isinstance(error, FloatingPointError)
    assert f"env step {error.step}" in str(error) and ".result" in str(error)
    assert result.total_steps == error.step < 400
    assert not math.isfinite(result.losses[-1]) and len(result.losses) <= 3
    assert result.train_seconds > 0 and result.final_net is result.policy_net


def test_divergence_advice_names_clipping_and_huber_when_they_are_off():
    config = DIVERGING.replace(loss="mse", grad_clip_value=None)
    with pytest.raises(TrainingDiverged, match=r"grad_clip_norm=10.*smooth_l1"):
        train_dqn(config, seed=0, max_steps=400)


def test_keep_best_never_keeps_a_diverged_network():
    with pytest.raises(TrainingDiverged) as info:
        train_dqn(DIVERGING, seed=0, max_steps=400, eval_every=20, eval_episodes=2,
                  keep_best=True)
    result = info.value.result
    assert result.best_eval_step == 20 and result.eval_steps == [20]
    assert _finite(result.policy_net)  # the best evaluated one
    assert not _finite(result.final_net)  # the diverged one, for inspection


class _PoisonedAdamW(FlatAdamW):
    """Makes the weights NaN at one optimizer step: after it, the loss is never computed
    (end of training) or an evaluation comes first."""

    at_step = 0

    def step(self):
        super().step()
        if self.steps == self.at_step:
            self.theta[0] = math.nan


@pytest.mark.parametrize(("at_step", "eval_every", "step"), [(169, None, 200), (69, 100, 100)])
def test_weights_are_checked_at_evaluations_and_at_the_end(monkeypatch, at_step, eval_every, step):
    monkeypatch.setattr(_PoisonedAdamW, "at_step", at_step)
    monkeypatch.setattr(dqn_module, "FlatAdamW", _PoisonedAdamW)
    # learning starts at step 32: optimizer step k happens at env step 31 + k
    with pytest.raises(TrainingDiverged, match="weights are NaN") as info:
        train_dqn(SMALL, seed=0, max_steps=200, eval_every=eval_every, eval_episodes=2)
    assert info.value.step == step and info.value.result.eval_steps == []


def test_evaluate_refuses_a_nan_network():
    net = DQN(4, 2)
    with torch.no_grad():
        net.layer3.bias.fill_(math.nan)  # argmax of NaN would quietly be action 0
    net.train()
    with pytest.raises(ValueError, match="q_network outputs NaN"):
        evaluate(net, n_episodes=2)
    assert net.training  # its mode is restored even after the error


# --------------------------------------------------------------------------- stopping early


class _Recorder:
    """Wraps make_env and tqdm to see whether train_dqn closes what it opened."""

    def __init__(self, monkeypatch):
        import tqdm.auto

        self.envs, self.bars = [], []
        real_make_env, real_tqdm = dqn_module.make_env, tqdm.auto.tqdm
        recorder = self

        def make_env(env_id, **kwargs):
            env = real_make_env(env_id, **kwargs)
            env.closed_by_caller = False
            close = env.close

            def record_close():
                env.closed_by_caller = True
                close()

            env.close = record_close
            recorder.envs.append(env)
            return env

        class Bar(real_tqdm):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, disable=True, **kwargs)
                self.closed_by_caller = False
                recorder.bars.append(self)

            def close(self):
                self.closed_by_caller = True
                super().close()

        monkeypatch.setattr(dqn_module, "make_env", make_env)
        monkeypatch.setattr(tqdm.auto, "tqdm", Bar)

    def all_closed(self):
        return all(e.closed_by_caller for e in self.envs + self.bars) and len(self.bars) == 1


def _stop_at_episode(n, error):
    def callback(episode, durations):
        if episode == n:
            raise error

    return callback


def test_interrupt_keeps_the_run_closes_everything_and_still_stops(monkeypatch):
    recorder = _Recorder(monkeypatch)
    with pytest.raises(KeyboardInterrupt) as info:  # so that "Run All" stops there
        train_dqn(SMALL, seed=0, num_episodes=100, progress=True, eval_every=50,
                  eval_episodes=2, callback=_stop_at_episode(5, KeyboardInterrupt()))
    assert isinstance(info.value, TrainingInterrupted)
    assert "sys.last_value.result" in str(info.value)
    result = info.value.result
    assert len(result.episode_durations) == 6 and result.total_steps == sum(
        result.episode_durations)
    assert len(result.epsilons) == result.total_steps and result.eval_steps
    assert recorder.all_closed()
    # the run so far is the start of the uninterrupted run
    full = train_dqn(SMALL, seed=0, num_episodes=6, eval_every=50, eval_episodes=2)
    assert _same_run(result, full)


def test_an_error_in_the_callback_passes_through_with_the_run_so_far(monkeypatch):
    recorder = _Recorder(monkeypatch)
    with pytest.raises(ZeroDivisionError) as info:
        train_dqn(SMALL, seed=0, num_episodes=10, progress=True,
                  callback=_stop_at_episode(2, ZeroDivisionError("in my callback")))
    assert len(info.value.result.episode_durations) == 3
    assert any("train_dqn stopped at env step" in note for note in info.value.__notes__)
    assert recorder.all_closed()


# --------------------------------------------------------------------------- global state


@pytest.mark.parametrize("stop", [None, "interrupt"])
def test_train_dqn_leaves_the_kernels_torch_settings_alone(stop):
    threads, flushed = torch.get_num_threads(), denormals_flushed()
    try:
        torch.set_num_threads(2)
        torch.set_flush_denormal(False)
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        callback = _stop_at_episode(1, KeyboardInterrupt()) if stop else None
        try:
            train_dqn(SMALL, seed=0, max_steps=60, callback=callback, num_threads=1)
        except TrainingInterrupted:
            pass
        assert torch.equal(torch.rand(3), expected)  # the notebook's own random stream
        assert torch.get_num_threads() == 2
        assert not denormals_flushed()
        tiny = np.float64(1e-300)
        assert tiny * 1e-10 > 0  # a denormal double survives, in plain NumPy/Python too
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(flushed)


# --------------------------------------------------------------------------- environments


class _CartPoleFloat64(CartPoleEnv):
    """CartPole whose observations are float64, as some environments' are."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float64)

    def reset(self, **kwargs):
        observation, info = super().reset(**kwargs)
        return observation.astype(np.float64), info

    def step(self, action):
        observation, *rest = super().step(action)
        return observation.astype(np.float64), *rest


class _CartPoleFromOne(CartPoleEnv):
    """CartPole whose two actions are numbered 1 and 2."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.action_space = gym.spaces.Discrete(2, start=1)


gym.register(id="RobustnessCartPoleFloat64-v0", entry_point=_CartPoleFloat64,
             max_episode_steps=500)
gym.register(id="RobustnessCartPoleFromOne-v0", entry_point=_CartPoleFromOne)


def test_float64_observations_train_and_evaluate():
    result = train_dqn(SMALL, env_id="RobustnessCartPoleFloat64-v0", seed=0, max_steps=200,
                       eval_every=100, eval_episodes=2)
    assert result.total_steps == 200 and len(result.eval_returns) == 2
    assert evaluate(result.policy_net, "RobustnessCartPoleFloat64-v0", 2).shape == (2,)


@pytest.mark.parametrize(
    ("env_id", "match"),
    [
        ("NoSuchEnv-v0", "registered"), ("Pendulum-v1", "discrete action space"),
        ("RobustnessCartPoleFromOne-v0", "numbered from 0"), ("FrozenLake-v1", "vector"),
        (None, "string"),
    ],
)
def test_make_env_says_what_is_wrong(env_id, match):
    with pytest.raises(ValueError, match=f"env_id.*{match}"):
        make_env(env_id)


def test_solved_threshold_names_env_id():
    assert solved_threshold("CartPole-v1") == 475
    with pytest.raises(ValueError, match="env_id must be a registered"):
        solved_threshold("NoSuchEnv-v0")


@pytest.mark.parametrize(
    ("net", "match"),
    [
        (DQN(3, 2), "cannot take CartPole-v1's observations"),
        (DQN(4, 3), r"one Q-value per action .* \(batch, 2\)"),
        (torch.nn.Linear(4, 2).forward, "torch.nn.Module"),
    ],
)
def test_evaluate_refuses_a_network_that_does_not_fit(net, match):
    with pytest.raises(ValueError, match=match):
        evaluate(net, n_episodes=2)


def test_evaluate_takes_numpy_numbers_and_refuses_bools():
    net = DQN(4, 2)
    expected = evaluate(net, n_episodes=3, seed=5)
    np.testing.assert_array_equal(evaluate(net, n_episodes=np.int64(3), seed=np.int64(5)),
                                  expected)
    for kwargs in ({"seed": True}, {"n_episodes": True}, {"seed": -1}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            evaluate(net, **kwargs)


# --------------------------------------------------------------------------- building blocks


def test_td_target_refuses_shapes_that_would_broadcast():
    rewards, next_q, terminated = torch.ones(5), torch.zeros(5, 2), torch.zeros(5)
    assert td_target(rewards, next_q, terminated, np.float64(0.9)).shape == (5,)
    for args, name in [
        ((rewards[:, None], next_q, terminated), "rewards"),  # would give a (5, 5) "target"
        ((rewards, next_q, terminated[:, None]), "terminated"),
        ((rewards, next_q[:, 0], terminated), "next_q_values"),
        ((rewards[:3], next_q, terminated), "rewards"),
        (([1.0] * 5, next_q, terminated), "rewards"),
    ]:
        with pytest.raises(ValueError, match=name):
            td_target(*args, 0.9)
    with pytest.raises(ValueError, match="gamma"):
        td_target(rewards, next_q, terminated, 1.5)


@pytest.mark.parametrize("tau", [2, -0.5, math.nan, True, "0.1"])
def test_soft_update_refuses_tau_outside_zero_one(tau):
    with pytest.raises(ValueError, match="tau"):
        soft_update(DQN(4, 2), DQN(4, 2), tau)


def test_target_updates_take_numpy_tau_and_refuse_other_architectures():
    target, online = DQN(4, 2), DQN(4, 2)
    soft_update(target, online, np.float64(1.0))
    assert all(torch.equal(a, b) for a, b in zip(target.parameters(), online.parameters(),
                                                 strict=True))
    for update in (lambda t, o: soft_update(t, o, 0.1), hard_update):
        with pytest.raises(ValueError, match="same architecture"):
            update(DQN(4, 2), DQN(4, 2, hidden=64))
        with pytest.raises(ValueError, match="same architecture"):
            update(DQN(4, 2), DuelingDQN(4, 2))


def test_loss_names_other_than_the_two_known_ones_are_refused():
    batch = Batch(torch.zeros(3, 4), torch.tensor([0, 1, 0]), torch.ones(3), torch.zeros(3, 4),
                  torch.zeros(3))
    net = DQN(4, 2)
    for loss_fn in (dqn_loss, dqn_loss_backward):  # "huber" used to mean squared error
        with pytest.raises(ValueError, match="loss must be one of 'smooth_l1', 'mse'"):
            loss_fn(net, net, batch, 0.9, loss="huber")


def test_replay_buffer_push_refuses_what_it_would_store_wrongly():
    buffer = ReplayBuffer(np.int64(4), [4], rng=np.random.default_rng(0))
    state = np.zeros(4, np.float32)
    buffer.push(state, np.int64(1), np.float32(1.0), state, np.bool_(True))
    buffer.push([0.0] * 4, 0, 1, state, False)
    assert buffer.actions[:2].tolist() == [1, 0] and buffer.terminated[:2].tolist() == [1, 0]
    for args, name in [
        ((0.5, 0, 1.0, state, False), "state"),  # a scalar used to fill the whole row
        ((state, 0, 1.0, np.zeros((1, 4)), False), "next_state"),
        ((state, 1.7, 1.0, state, False), "action"),  # used to be stored as 1
        ((state, -1, 1.0, state, False), "action"),
        ((state, True, 1.0, state, False), "action"),
        ((state, 0, math.nan, state, False), "reward"),
        ((state, 0, 1.0, state, "no"), "terminated"),
    ]:
        with pytest.raises(ValueError, match=name):
            buffer.push(*args)
    assert len(buffer) == 2 and len(buffer.sample(np.int64(2))) == 5
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 2\]"):
        buffer.sample(3)
    for bad in (4, (4.0,), (0,)):
        with pytest.raises(ValueError, match="obs_shape"):
            ReplayBuffer(4, bad)
    with pytest.raises(ValueError, match="rng"):
        ReplayBuffer(4, (4,), rng=0)


def test_replay_memory_takes_numpy_integers():
    memory = ReplayMemory(np.int64(3))
    for i in range(3):
        memory.push(i, 0, i + 1, 1.0)
    assert len(memory.sample(np.int64(2))) == 2
    with pytest.raises(ValueError, match="capacity"):
        ReplayMemory(True)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"eps": 0.0}, "eps"), ({"lr": math.inf}, "lr"), ({"lr": 0}, "lr"),
        ({"betas": (1.0, 0.999)}, r"betas\[0\]"), ({"betas": 0.9}, "betas"),
        ({"weight_decay": math.nan}, "weight_decay"), ({"amsgrad": 1}, "amsgrad"),
    ],
)
def test_flat_adamw_refuses_settings_that_make_nan_weights(kwargs, name):
    theta, grad = flatten_parameters(DQN(4, 2))
    with pytest.raises(ValueError, match=name):
        FlatAdamW(theta, grad, **{"lr": 1e-3, **kwargs})


def test_flat_adamw_eps_keeps_a_zero_gradient_finite():
    theta, grad = flatten_parameters(DQN(4, 2))
    optimizer = FlatAdamW(theta, grad, lr=1e-3, eps=1e-8)
    optimizer.step()  # grad is all zeros
    assert bool(torch.isfinite(theta).all())


def test_flatten_parameters_twice_keeps_the_optimizer_attached():
    torch.manual_seed(0)
    net = DQN(4, 2)
    theta, grad = flatten_parameters(net)
    optimizer = FlatAdamW(theta, grad, lr=0.1)
    again = flatten_parameters(net)
    assert again[0] is theta and again[1] is grad
    net.zero_grad()  # torch's default sets every .grad to None ...
    assert flatten_parameters(net)[1] is grad  # ... a further call re-attaches them
    before = [p.detach().clone() for p in net.parameters()]
    net(torch.ones(3, 4)).sum().backward()
    optimizer.step()
    assert all(not torch.equal(p, b) for p, b in zip(net.parameters(), before, strict=True))
    twin = copy.deepcopy(net)  # a copy has memory of its own, so it gets vectors of its own
    twin_theta, _ = flatten_parameters(twin)
    assert twin_theta.data_ptr() != theta.data_ptr() and torch.equal(twin_theta, theta)
    with pytest.raises(ValueError, match="net"):
        flatten_parameters(torch.nn.ReLU())


def test_network_sizes_are_checked():
    assert DQN(np.int64(4), np.int64(2), hidden=np.int64(8)).layer1.in_features == 4
    for args in ((0, 2), (4, 2.0), (True, 2)):
        with pytest.raises(ValueError, match="n_observations|n_actions"):
            DuelingDQN(*args)


# --------------------------------------------------------------------------- checkpoints


def test_save_checkpoint_refuses_a_network_its_config_does_not_describe(tmp_path):
    cases = [
        (DQN(4, 2, hidden=64), DQNConfig(), "hidden=128"),
        (DuelingDQN(4, 2), DQNConfig(), "DQN with hidden=128"),
        (DQN(4, 2), DQNConfig(dueling=True), "DuelingDQN"),
        (DQN(4, 2), {"hidden": 128}, "config must be a DQNConfig"),
    ]
    for net, config, match in cases:
        with pytest.raises(ValueError, match=match):
            save_checkpoint(tmp_path / "c.pt", net, config)
    diverged = DQN(4, 2)
    with torch.no_grad():
        diverged.layer1.weight[0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        save_checkpoint(tmp_path / "c.pt", diverged, DQNConfig())
    with pytest.raises(ValueError, match="folder"):
        save_checkpoint(tmp_path, DQN(4, 2), DQNConfig())
    assert list(tmp_path.iterdir()) == []


class _RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_load_checkpoint_refuses_a_hostile_file_without_bad_advice(tmp_path):
    path = tmp_path / "hostile.pt"
    torch.save({"format": 1, "config": _RunsCode()}, path)
    with pytest.raises(ValueError, match="corrupt or not a DQN checkpoint") as info:
        load_checkpoint(path)
    assert "weights_only" not in str(info.value) and "arbitrary" not in str(info.value)
    assert "any code" in str(info.value)


def test_jupyter_can_recover_an_interrupted_run_from_sys_last_value():
    """What the docstring tells a learner: after the stop button, the next cell can run
    ``result = sys.last_value.result`` (IPython stores the exception there)."""
    try:
        train_dqn(SMALL, seed=0, callback=_stop_at_episode(0, KeyboardInterrupt()))
    except TrainingInterrupted as error:
        sys.last_value = error  # what IPython does when it shows the traceback
    try:
        result = sys.last_value.result
        assert len(result.episode_durations) == 1 and result.policy_net is not None
    finally:
        del sys.last_value
