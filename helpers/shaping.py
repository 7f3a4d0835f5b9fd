"""Potential-based reward shaping (Ng, Harada & Russell, 1999), taught in lesson 08.

Adding ``F(s, s') = gamma * Phi(s') - Phi(s)`` to every reward, for any function ``Phi`` of
the state (with ``Phi = 0`` at terminal states), leaves the optimal policy unchanged: along
any trajectory the added terms telescope, so every policy's value from ``s`` moves by the
same ``-Phi(s)`` and the ranking of actions stays as it was. What changes is how soon a
learner is told it is making progress.

``MOUNTAIN_CAR_SHAPED`` is MountainCar-v0 with the car's mechanical energy as the potential;
train on it and judge on the real ``MountainCar-v0`` (``train_dqn(eval_env_id=...)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from helpers.validation import as_float

__all__ = [
    "MOUNTAIN_CAR_SHAPED",
    "PotentialShaping",
    "mountain_car_energy",
    "shaped_reward",
]

MOUNTAIN_CAR_SHAPED = "helpers/MountainCarShaped-v0"
"""MountainCar-v0 with energy shaping (gamma 0.98, scale 10): a registered gymnasium id."""
_SHAPED_KWARGS = {"gamma": 0.98, "scale": 10.0}
"""Its shaping: the recommended config's gamma, and the energy's scale (a test checks both)."""

# MountainCar-v0's dynamics: v <- v + (action - 1) * 0.001 - GRAVITY * cos(3 x), so gravity
# is the slope of the potential energy GRAVITY / 3 * sin(3 x).
_GRAVITY, _MAX_SPEED = 0.0025, 0.07
_E_MIN = -_GRAVITY / 3  # at rest in the valley, sin(3x) = -1
_E_MAX = 0.5 * _MAX_SPEED**2 + _GRAVITY / 3  # at top speed on a crest


def shaped_reward(reward: float, phi: float, phi_next: float, gamma: float,
                  terminated: bool) -> float:
    """``reward + gamma * Phi(s') - Phi(s)``, with ``Phi(s') = 0`` when ``s'`` is terminal."""
    return reward + gamma * (0.0 if terminated else phi_next) - phi


def mountain_car_energy(observation: Any, scale: float = _SHAPED_KWARGS["scale"]) -> float:
    """The car's mechanical energy, ``v^2 / 2 + 0.0025 / 3 * sin(3 x)``, mapped to ``[0, scale]``.

    0 is the car at rest at the bottom of the valley; ``scale`` is top speed on a crest.
    """
    position, velocity = float(observation[0]), float(observation[1])
    energy = 0.5 * velocity**2 + _GRAVITY / 3 * math.sin(3 * position)
    return scale * (energy - _E_MIN) / (_E_MAX - _E_MIN)


class PotentialShaping(gym.Wrapper):
    """An environment whose rewards carry ``gamma * Phi(s') - Phi(s)`` on top.

    ``info["env_reward"]`` keeps the environment's own reward. Truncation (a time limit)
    is not termination: the state after it still has its potential.
    """

    def __init__(self, env: gym.Env, potential: Callable[[Any], float], gamma: float) -> None:
        super().__init__(env)
        if not callable(potential):
            raise ValueError(f"potential must be a function of the observation, got "
                             f"{potential!r}")
        self.potential = potential
        self.gamma = as_float(gamma, "gamma", 0, 1, low_open=True)
        self._phi = 0.0

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        observation, info = self.env.reset(**kwargs)
        self._phi = self.potential(observation)
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        phi_next = self.potential(observation)
        shaped = shaped_reward(float(reward), self._phi, phi_next, self.gamma, terminated)
        self._phi = phi_next
        return observation, shaped, terminated, truncated, {**info, "env_reward": reward}


def _make_shaped_mountain_car(gamma: float, scale: float, **kwargs: Any) -> gym.Env:
    """MountainCar-v0 with energy shaping; ``gym.make`` passes the registered kwargs."""
    scale = as_float(scale, "scale", 0)
    env = gym.make("MountainCar-v0", **kwargs)
    return PotentialShaping(env, lambda s: mountain_car_energy(s, scale), gamma)


if MOUNTAIN_CAR_SHAPED not in gym.registry:
    gym.register(MOUNTAIN_CAR_SHAPED, entry_point=_make_shaped_mountain_car,
                 kwargs=_SHAPED_KWARGS, disable_env_checker=True)

