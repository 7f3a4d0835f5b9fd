"""The trainer's Double DQN and dueling switches (lesson 07).

``tests/test_dqn.py`` checks ``dqn_loss``'s losses against the formula and the dueling
forward pass on random networks; here: the targets themselves on a hand-made batch, the
property that makes Double DQN less optimistic, the identifiability of the dueling split,
and that ``train_dqn`` really uses each switch, deterministically, with checkpoints.
"""

import numpy as np
import pytest
import torch
import torch.nn as nn

import helpers.dqn
from helpers.dqn import (
    DQN,
    Batch,
    DQNConfig,
    DuelingDQN,
    dqn_loss,
    load_checkpoint,
    make_q_network,
    save_checkpoint,
    train_dqn,
)

SMALL = DQNConfig(hidden=32, batch_size=32, memory_size=1000)


class TableNet(nn.Module):
    """A "network" whose Q-values are a table: state i is the one-hot vector e_i and
    ``Q(e_i, .) = table[i]`` (a linear layer without bias, weight = table transposed)."""

    def __init__(self, table):
        super().__init__()
        table = torch.as_tensor(table, dtype=torch.float32)
        self.linear = nn.Linear(table.shape[0], table.shape[1], bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(table.T)

    def forward(self, x):
        return self.linear(x)


def targets_used(online, target, batch, gamma, double_dqn):
    """The TD targets y that ``dqn_loss`` regresses onto, recovered from its gradient:
    for the squared error, dL/dq_sa = 2 (q_sa - y) / B, so y = q_sa - (B / 2) dL/dq_sa."""
    loss, q_sa = dqn_loss(online, target, batch, gamma, double_dqn=double_dqn, loss="mse")
    (grad,) = torch.autograd.grad(loss, q_sa)
    return (q_sa - len(q_sa) / 2 * grad).detach()


def hand_batch():
    """Three transitions between one-hot states: s = e_0, e_1, e_2 and s' = e_3, e_4, e_5;
    the third one terminated."""
    eye = torch.eye(6)
    return Batch(
        states=eye[[0, 1, 2]],
        actions=torch.tensor([0, 1, 0]),
        rewards=torch.tensor([1.0, 0.5, 2.0]),
        next_states=eye[[3, 4, 5]],
        terminated=torch.tensor([0.0, 0.0, 1.0]),
    )


# Q(s, a) of the online and target networks; rows 0-2 are the states, rows 3-5 the next states.
ONLINE = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 3.0], [5.0, 2.0], [0.0, 4.0]]
TARGET = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [4.0, 2.0], [1.0, 6.0], [7.0, 7.0]]


def test_double_target_by_hand():
    # gamma = 0.5. Vanilla: y = r + gamma * max_a' Q_target(s', a'):
    #   row 0: 1 + 0.5 * max(4, 2) = 3;  row 1: 0.5 + 0.5 * max(1, 6) = 3.5;  row 2: 2 (terminal).
    # Double: the online net chooses a* = argmax_a' Q_online(s', a'), the target net evaluates:
    #   row 0: a* = 1 (3 > 1), y = 1 + 0.5 * Q_target(s', 1) = 1 + 0.5 * 2 = 2;
    #   row 1: a* = 0 (5 > 2), y = 0.5 + 0.5 * Q_target(s', 0) = 0.5 + 0.5 * 1 = 1;
    #   row 2: terminal, y = r = 2 whatever the networks say.
    online, target, batch = TableNet(ONLINE), TableNet(TARGET), hand_batch()
    vanilla = targets_used(online, target, batch, 0.5, double_dqn=False)
    double = targets_used(online, target, batch, 0.5, double_dqn=True)
    torch.testing.assert_close(vanilla, torch.tensor([3.0, 3.5, 2.0]))
    torch.testing.assert_close(double, torch.tensor([2.0, 1.0, 2.0]))


def test_double_target_equals_vanilla_when_the_nets_agree():
    # An online net that ranks the next actions as the target net does (argmax 0 in s' = e_3,
    # 1 in e_4): choosing with one and evaluating with the other is then just the max.
    online = TableNet([[0.0, 0.0]] * 3 + [[9.0, 0.0], [0.0, 9.0], [1.0, 0.0]])
    target, batch = TableNet(TARGET), hand_batch()
    torch.testing.assert_close(targets_used(online, target, batch, 0.5, True),
                               targets_used(online, target, batch, 0.5, False))


@pytest.mark.parametrize("network", [DQN, DuelingDQN])
def test_double_target_formula_and_never_above_vanilla(network):
    torch.manual_seed(0)
    online, target = network(4, 3), network(4, 3)
    batch = Batch(states=torch.randn(64, 4), actions=torch.randint(0, 3, (64,)),
                  rewards=torch.randn(64), next_states=torch.randn(64, 4),
                  terminated=(torch.rand(64) < 0.2).float())
    gamma = 0.9
    with torch.no_grad():
        chosen = online(batch.next_states).argmax(dim=1)  # (B,) the online net chooses
        evaluated = target(batch.next_states)[torch.arange(64), chosen]  # the target evaluates
        expected = batch.rewards + gamma * (1 - batch.terminated) * evaluated
    double = targets_used(online, target, batch, gamma, True)
    vanilla = targets_used(online, target, batch, gamma, False)
    torch.testing.assert_close(double, expected)
    # Q_target(s', a*) <= max_a' Q_target(s', a'): the Double target is never the larger one,
    # and here the two networks disagree on some rows.
    assert torch.all(double <= vanilla + 1e-6)
    assert torch.any(double < vanilla - 1e-3)


# --------------------------------------------------------------------------- dueling


def test_dueling_mean_over_actions_is_v_and_a_is_centred():
    torch.manual_seed(1)
    net = DuelingDQN(4, 5, hidden=16)
    x = torch.randn(8, 4)
    q = net(x)  # (8, 5)
    h = torch.relu(net.layer1(x))
    value = net.value_head(torch.relu(net.value_hidden(h)))  # (8, 1)
    advantage = net.advantage_head(torch.relu(net.advantage_hidden(h)))  # (8, 5)
    centred = advantage - advantage.mean(dim=1, keepdim=True)
    torch.testing.assert_close(q, value + centred)
    torch.testing.assert_close(q.mean(dim=1, keepdim=True), value)
    torch.testing.assert_close(centred.sum(dim=1), torch.zeros(8), atol=1e-5, rtol=0)
    # The advantages rank the actions exactly as Q does.
    assert torch.equal(q.argmax(dim=1), advantage.argmax(dim=1))


def test_dueling_split_is_identifiable():
    # Without the mean, (V + c, A - c) gives the same Q = V + A for every c: V is not
    # determined. With it, a constant added to A cancels, and one added to V moves every Q.
    torch.manual_seed(2)
    net = DuelingDQN(4, 3, hidden=16)
    x = torch.randn(5, 4)
    before = net(x).detach()
    with torch.no_grad():
        net.advantage_head.bias += 7.0  # A -> A + 7
    torch.testing.assert_close(net(x), before)  # Q unchanged: the mean removes the constant
    with torch.no_grad():
        net.value_head.bias += 2.0  # V -> V + 2
    torch.testing.assert_close(net(x), before + 2.0)
    value, advantage = torch.randn(5, 1), torch.randn(5, 3)
    torch.testing.assert_close(value + advantage, (value + 3.0) + (advantage - 3.0))


def test_dueling_accepts_a_single_state():
    torch.manual_seed(3)
    net = DuelingDQN(4, 2)
    x = torch.randn(3, 4)
    assert net(x[0]).shape == (2,)
    torch.testing.assert_close(net(x[0]), net(x)[0])  # the mean is over actions, not the batch


def test_make_q_network_follows_the_switch():
    assert type(make_q_network(DQNConfig(), 4, 2)) is DQN
    assert type(make_q_network(DQNConfig(dueling=True), 4, 2)) is DuelingDQN
    assert make_q_network(DQNConfig(dueling=True, hidden=8), 4, 2).value_hidden.out_features == 8


# --------------------------------------------------------------------------- the trainer


def test_trainer_passes_the_double_switch_to_the_loss(monkeypatch):
    seen = []

    def spy_on(loss_function):
        def spy(*args, **kwargs):
            seen.append(args[4] if len(args) > 4 else kwargs.get("double_dqn", False))
            return loss_function(*args, **kwargs)

        return spy

    # dqn_loss + backward for the dueling network, dqn_loss_backward for the plain MLP
    monkeypatch.setattr(helpers.dqn, "dqn_loss", spy_on(helpers.dqn.dqn_loss))
    monkeypatch.setattr(helpers.dqn, "dqn_loss_backward", spy_on(helpers.dqn.dqn_loss_backward))
    for dueling in (False, True):
        for double in (False, True):
            seen.clear()
            train_dqn(SMALL.replace(double_dqn=double, dueling=dueling), seed=0, max_steps=60,
                      device="cpu")
            assert seen and set(seen) == {double}


def test_double_changes_training_only_once_the_nets_differ():
    # At the first gradient step the target network is still a copy of the online one
    # (nothing has been learned yet), so both targets agree; afterwards they do not.
    vanilla = train_dqn(SMALL, seed=1, max_steps=200, device="cpu")
    double = train_dqn(SMALL.replace(double_dqn=True), seed=1, max_steps=200, device="cpu")
    assert vanilla.losses[0] == double.losses[0]
    assert vanilla.losses != double.losses


@pytest.mark.parametrize(
    "switches",
    [dict(double_dqn=True), dict(dueling=True), dict(double_dqn=True, dueling=True)],
)
def test_each_switch_is_deterministic_per_seed(switches):
    config = SMALL.replace(**switches)
    a = train_dqn(config, seed=5, max_steps=300, eval_every=150, device="cpu")
    b = train_dqn(config, seed=5, max_steps=300, eval_every=150, device="cpu")
    c = train_dqn(config, seed=6, max_steps=300, eval_every=150, device="cpu")
    assert a.episode_durations == b.episode_durations and a.losses == b.losses
    assert a.eval_returns == b.eval_returns and a.mean_q == b.mean_q
    for p, q in zip(a.policy_net.parameters(), b.policy_net.parameters(), strict=True):
        assert torch.equal(p, q)
    assert a.losses != c.losses
    expected = DuelingDQN if config.dueling else DQN
    assert type(a.policy_net) is expected and type(a.target_net) is expected


def test_trained_dueling_network_checkpoint_round_trip(tmp_path):
    config = SMALL.replace(dueling=True, double_dqn=True)
    result = train_dqn(config, seed=2, max_steps=200, device="cpu")
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(16, 4)), dtype=torch.float32)
    path = save_checkpoint(tmp_path / "dueling.pt", result.policy_net, config)
    loaded, loaded_config = load_checkpoint(path)
    assert loaded_config == config and type(loaded) is DuelingDQN
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), result.policy_net(x), rtol=0, atol=0)
        # the loaded network keeps the dueling identity
        h = torch.relu(loaded.layer1(x))
        value = loaded.value_head(torch.relu(loaded.value_hidden(h)))
        torch.testing.assert_close(loaded(x).mean(dim=1, keepdim=True), value)
