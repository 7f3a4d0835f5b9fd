"""Potential-based reward shaping (lesson 08): the formula, the wrapper, the registered id,
and training on a shaped environment while judging on the real one."""

import math

import gymnasium as gym
import numpy as np
import pytest

from helpers.dqn import DQNConfig, make_env, train_dqn
from helpers.shaping import (
    MOUNTAIN_CAR_SHAPED,
    PotentialShaping,
    mountain_car_energy,
    shaped_reward,
)


def test_shaped_reward_formula_and_terminal_potential():
    assert shaped_reward(-1.0, 2.0, 3.0, 0.5, False) == -1.0 + 0.5 * 3.0 - 2.0
    assert shaped_reward(-1.0, 2.0, 3.0, 0.5, True) == -1.0 - 2.0  # Phi(terminal) = 0


def test_energy_is_zero_at_rest_in_the_valley_and_scale_at_the_top():
    valley = -math.pi / 6  # sin(3x) = -1
    assert mountain_car_energy([valley, 0.0]) == pytest.approx(0.0, abs=1e-12)
    assert mountain_car_energy([math.pi / 6, 0.07]) == pytest.approx(10.0)
    assert mountain_car_energy([math.pi / 6, 0.07], scale=1.0) == pytest.approx(1.0)
    grid = [mountain_car_energy([x, v]) for x in np.linspace(-1.2, 0.6, 19)
            for v in np.linspace(-0.07, 0.07, 15)]
    assert min(grid) >= 0.0 and max(grid) <= 10.0 + 1e-9


def _play(env, seed, policy):
    state, _ = env.reset(seed=seed)
    steps, done = [], False
    while not done:
        next_state, reward, terminated, truncated, info = env.step(policy(state))
        steps.append((state, reward, next_state, terminated, info))
        state, done = next_state, terminated or truncated
    return steps


@pytest.mark.parametrize("policy_name", ["pump", "idle"])
def test_wrapper_adds_the_shaping_term_and_telescopes(policy_name):
    policy = {"pump": lambda s: 2 if s[1] >= 0 else 0, "idle": lambda s: 1}[policy_name]
    env = gym.make(MOUNTAIN_CAR_SHAPED)
    gamma = env.spec.kwargs["gamma"]
    steps = _play(env, 3, policy)
    plain = _play(gym.make("MountainCar-v0"), 3, policy)
    assert [s[1] for s in plain] == [s[4]["env_reward"] for s in steps]  # same dynamics
    for state, reward, next_state, terminated, info in steps:
        expected = shaped_reward(info["env_reward"], mountain_car_energy(state),
                                 mountain_car_energy(next_state), gamma, terminated)
        assert reward == expected
    discounts = gamma ** np.arange(len(steps))
    shaped = discounts @ [s[1] for s in steps]
    original = discounts @ [s[4]["env_reward"] for s in steps]
    end = 0.0 if steps[-1][3] else gamma ** len(steps) * mountain_car_energy(steps[-1][2])
    assert shaped == pytest.approx(original + end - mountain_car_energy(steps[0][0]))
    assert steps[-1][3] == (policy_name == "pump")  # pumping reaches the flag, idling not


def test_registered_gamma_is_the_recommended_config_s():
    assert gym.spec(MOUNTAIN_CAR_SHAPED).kwargs["gamma"] == DQNConfig.recommended().gamma
    assert gym.spec(MOUNTAIN_CAR_SHAPED).kwargs["scale"] == 10.0  # mountain_car_energy's default
    assert gym.spec(MOUNTAIN_CAR_SHAPED).reward_threshold is None  # judge on MountainCar-v0


def test_wrapper_rejects_bad_arguments():
    with pytest.raises(ValueError, match="gamma"):
        PotentialShaping(gym.make("MountainCar-v0"), mountain_car_energy, 1.5)
    with pytest.raises(ValueError, match="potential"):
        PotentialShaping(gym.make("MountainCar-v0"), 3.0, 0.9)
    with pytest.raises(ValueError, match="scale"):
        gym.make(MOUNTAIN_CAR_SHAPED, scale=-1.0)


def test_train_on_shaped_judge_on_real():
    result = train_dqn(DQNConfig.recommended(), env_id=MOUNTAIN_CAR_SHAPED,
                       eval_env_id="MountainCar-v0", seed=0, max_steps=600, num_episodes=100,
                       eval_every=300, eval_episodes=2)
    assert all(-200 <= r <= -1 and r == int(r) for r in result.eval_returns)  # real rewards
    assert any(r != int(r) for r in result.episode_returns)  # training saw shaped rewards
    assert len(result.episode_returns) == len(result.episode_durations) == 3


def test_eval_env_id_is_checked():
    with pytest.raises(ValueError, match="eval_env_id must be a registered gymnasium id"):
        train_dqn(eval_env_id=3, max_steps=10)
    with pytest.raises(ValueError, match="eval_env_id must have the training environment's"):
        train_dqn(env_id="CartPole-v1", eval_env_id="Acrobot-v1", max_steps=10)
    with pytest.raises(ValueError, match="registered gymnasium id"):
        train_dqn(env_id="CartPole-v1", eval_env_id="NoSuchEnv-v0", max_steps=10)


def test_episode_returns_are_the_environment_s_rewards():
    cartpole = train_dqn(seed=1, max_steps=300, num_episodes=100)
    assert cartpole.episode_returns == [float(d) for d in cartpole.episode_durations]
    acrobot = train_dqn(env_id="Acrobot-v1", seed=1, max_steps=1_200, num_episodes=100)
    for duration, ret in zip(acrobot.episode_durations, acrobot.episode_returns, strict=True):
        # -1 per step, 0 on the step that reaches the goal; -500 when the time limit cuts it
        assert ret in (-float(duration), -float(duration - 1))
    assert make_env("LunarLander-v3").observation_space.shape == (8,)
