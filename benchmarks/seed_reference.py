"""The seed guide's DQN training loop, written as a faithful script.

Same data structures and per-step work as the guide's Part 4: a ``deque`` of
``namedtuple`` transitions, batches built with ``torch.cat`` over Python tuples,
the target network's soft update through ``state_dict`` copies on every step,
AdamW with amsgrad, one gradient step per environment step. The only changes:
a ``seed`` for reproducibility, a ``max_steps`` budget so that two trainers can
be compared over the same number of environment steps, and no ``global``
statements (the state lives in a small closure instead) -- none of which alters
the per-step work.

This is the *reference* that ``bench_dqn.py`` measures the series' trainer
against; it is not used by the lessons.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque, namedtuple
from itertools import count

import gymnasium as gym
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size):
        return random.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self, n_observations, n_actions):
        super().__init__()
        self.layer1 = nn.Linear(n_observations, 128)
        self.layer2 = nn.Linear(128, 128)
        self.layer3 = nn.Linear(128, n_actions)

    def forward(self, x):
        x = F.relu(self.layer1(x))
        x = F.relu(self.layer2(x))
        return self.layer3(x)


BATCH_SIZE = 128
GAMMA = 0.99
EPS_START = 0.9
EPS_END = 0.05
EPS_DECAY = 1000
TAU = 0.005
LR = 1e-4


def run_seed_reference(seed: int = 0, max_steps: int = 10_000, num_episodes: int = 10**9) -> dict:
    """Train with the seed's code for ``max_steps`` env steps; return durations and timing."""
    random.seed(seed)
    torch.manual_seed(seed)
    device = torch.device("cpu")
    env = gym.make("CartPole-v1")
    env.action_space.seed(seed)
    n_actions = env.action_space.n
    state, _ = env.reset(seed=seed)
    n_observations = len(state)

    policy_net = DQN(n_observations, n_actions).to(device)
    target_net = DQN(n_observations, n_actions).to(device)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = optim.AdamW(policy_net.parameters(), lr=LR, amsgrad=True)
    memory = ReplayMemory(10000)
    steps_done = 0

    def select_action(state):
        nonlocal steps_done
        sample = random.random()
        eps_threshold = EPS_END + (EPS_START - EPS_END) * math.exp(-1.0 * steps_done / EPS_DECAY)
        steps_done += 1
        if sample > eps_threshold:
            with torch.no_grad():
                return policy_net(state).max(1)[1].view(1, 1)
        else:
            return torch.tensor([[env.action_space.sample()]], device=device, dtype=torch.long)

    def optimize_model():
        if len(memory) < BATCH_SIZE:
            return
        transitions = memory.sample(BATCH_SIZE)
        batch = Transition(*zip(*transitions))
        non_final_mask = torch.tensor(
            tuple(map(lambda s: s is not None, batch.next_state)), device=device, dtype=torch.bool
        )
        non_final_next_states = torch.cat([s for s in batch.next_state if s is not None])
        state_batch = torch.cat(batch.state)
        action_batch = torch.cat(batch.action)
        reward_batch = torch.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = torch.zeros(BATCH_SIZE, device=device)
        with torch.no_grad():
            next_state_values[non_final_mask] = target_net(non_final_next_states).max(1)[0]
        expected_state_action_values = (next_state_values * GAMMA) + reward_batch
        criterion = nn.SmoothL1Loss()
        loss = criterion(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()

    episode_durations = []
    start = time.perf_counter()
    first = True
    for _ in range(num_episodes):
        if first:
            first = False
        else:
            state, info = env.reset()
        state = torch.tensor(state, dtype=torch.float32, device=device).unsqueeze(0)
        for t in count():
            action = select_action(state)
            observation, reward, terminated, truncated, _ = env.step(action.item())
            reward = torch.tensor([reward], device=device)
            done = terminated or truncated
            if terminated:
                next_state = None
            else:
                next_state = torch.tensor(observation, dtype=torch.float32, device=device).unsqueeze(0)
            memory.push(state, action, next_state, reward)
            state = next_state
            optimize_model()
            target_net_state_dict = target_net.state_dict()
            policy_net_state_dict = policy_net.state_dict()
            for key in policy_net_state_dict:
                target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[
                    key
                ] * (1 - TAU)
            target_net.load_state_dict(target_net_state_dict)
            if done or steps_done >= max_steps:
                episode_durations.append(t + 1)
                break
        if steps_done >= max_steps:
            break
    seconds = time.perf_counter() - start
    return {
        "steps": steps_done,
        "seconds": seconds,
        "episode_durations": episode_durations,
        "policy_net": policy_net,
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    out = run_seed_reference(seed=0, max_steps=5_000)
    print(f"seed reference: {out['steps']} steps in {out['seconds']:.1f} s "
          f"= {out['steps'] / out['seconds']:.0f} steps/s")
