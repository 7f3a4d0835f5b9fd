"""Unit tests of the DQN engine: each piece against its formula, then the trainer."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import helpers.dqn as dqn_module
from helpers.dqn import (
    DQN,
    Batch,
    DQNConfig,
    DuelingDQN,
    FlatAdamW,
    ReplayBuffer,
    ReplayMemory,
    Transition,
    dqn_loss,
    dqn_loss_backward,
    evaluate,
    flatten_parameters,
    hard_update,
    load_checkpoint,
    save_checkpoint,
    soft_update,
    td_target,
    train_dqn,
)


def _batch():
    """Three hand-made CartPole-shaped transitions; the second one terminated."""
    return Batch(
        states=torch.tensor([[0.1, 0.0, 0.0, 0.0], [0.0, 0.2, 0.0, 0.0], [0.0, 0.0, 0.3, 0.0]]),
        actions=torch.tensor([0, 1, 1]),
        rewards=torch.tensor([1.0, 1.0, 0.5]),
        next_states=torch.tensor(
            [[0.0, 0.0, 0.0, 0.4], [0.5, 0.0, 0.0, 0.0], [0.0, 0.6, 0.0, 0.0]]
        ),
        terminated=torch.tensor([0.0, 1.0, 0.0]),
    )


# --------------------------------------------------------------------------- targets and loss


def test_td_target_terminated_does_not_bootstrap():
    rewards = torch.tensor([1.0, 1.0, 2.0])
    next_q = torch.tensor([[3.0, 5.0], [7.0, 1.0], [-1.0, -2.0]])
    terminated = torch.tensor([0.0, 1.0, 0.0])
    target = td_target(rewards, next_q, terminated, gamma=0.9)
    torch.testing.assert_close(target, torch.tensor([1 + 0.9 * 5, 1.0, 2 + 0.9 * -1]))


def test_dqn_loss_matches_formula_vanilla_and_double():
    torch.manual_seed(0)
    online, target = DQN(4, 2), DQN(4, 2)
    batch = _batch()
    gamma = 0.99
    with torch.no_grad():
        q_sa = online(batch.states)[torch.arange(3), batch.actions]
        next_t = target(batch.next_states)
        next_o = online(batch.next_states)
    not_done = 1 - batch.terminated
    vanilla = batch.rewards + gamma * not_done * next_t.max(dim=1).values
    double = batch.rewards + gamma * not_done * next_t[torch.arange(3), next_o.argmax(dim=1)]

    loss, predicted = dqn_loss(online, target, batch, gamma)
    torch.testing.assert_close(predicted.detach(), q_sa)
    torch.testing.assert_close(loss, F.smooth_l1_loss(q_sa, vanilla))
    loss, _ = dqn_loss(online, target, batch, gamma, double_dqn=True)
    torch.testing.assert_close(loss, F.smooth_l1_loss(q_sa, double))
    loss, _ = dqn_loss(online, target, batch, gamma, loss="mse")
    torch.testing.assert_close(loss, F.mse_loss(q_sa, vanilla))


def test_double_target_differs_from_vanilla_when_nets_disagree():
    torch.manual_seed(1)
    online, target = DQN(4, 2), DQN(4, 2)
    with torch.no_grad():  # the online net prefers action 1, the target net action 0
        online.layer3.bias.copy_(torch.tensor([0.0, 10.0]))
        target.layer3.bias.copy_(torch.tensor([10.0, 0.0]))
    batch = _batch()
    vanilla, _ = dqn_loss(online, target, batch, 0.99)
    double, _ = dqn_loss(online, target, batch, 0.99, double_dqn=True)
    # With the same network for both roles Double DQN is vanilla DQN.
    same_v, _ = dqn_loss(online, online, batch, 0.99)
    same_d, _ = dqn_loss(online, online, batch, 0.99, double_dqn=True)
    torch.testing.assert_close(same_v, same_d)
    assert not torch.isclose(vanilla, double)


def test_loss_gradient_only_reaches_online_network():
    online, target = DQN(4, 2), DQN(4, 2)
    loss, _ = dqn_loss(online, target, _batch(), 0.99)
    loss.backward()
    assert all(p.grad is not None for p in online.parameters())
    assert all(p.grad is None for p in target.parameters())


def _random_batch(batch_size, seed):
    g = torch.Generator().manual_seed(seed)
    return Batch(
        states=torch.randn(batch_size, 4, generator=g) * 2,
        actions=torch.randint(0, 2, (batch_size,), generator=g),
        rewards=torch.ones(batch_size),
        next_states=torch.randn(batch_size, 4, generator=g) * 2,
        terminated=(torch.rand(batch_size, generator=g) < 0.2).float(),
    )


@pytest.mark.parametrize("batch_size", [1, 37, 128])
@pytest.mark.parametrize("double_dqn", [False, True])
@pytest.mark.parametrize("loss", ["smooth_l1", "mse"])
@pytest.mark.parametrize("own_target", [False, True])
def test_hand_written_backward_is_autograd_bit_for_bit(batch_size, double_dqn, loss, own_target):
    torch.manual_seed(batch_size)
    online, target = DQN(4, 2, hidden=16), DQN(4, 2, hidden=16)
    bootstrap = online if own_target else target
    batch = _random_batch(batch_size, seed=batch_size)
    with torch.no_grad():  # large TD errors, so that the Huber loss uses both of its branches
        online.layer3.bias.fill_(3.0)
    expected_loss, expected_q_sa = dqn_loss(online, bootstrap, batch, 0.9, double_dqn, loss)
    expected_loss.backward()
    expected = [p.grad.clone() for p in online.parameters()]
    for p in online.parameters():
        p.grad.fill_(123.0)  # written, not accumulated
    got_loss, got_q_sa = dqn_loss_backward(online, bootstrap, batch, 0.9, double_dqn, loss)
    assert torch.equal(got_loss, expected_loss.detach()) and torch.equal(got_q_sa, expected_q_sa)
    assert not got_loss.requires_grad
    assert all(torch.equal(p.grad, e) for p, e in zip(online.parameters(), expected, strict=True))
    assert all(p.grad is None for p in target.parameters())


def test_hand_written_backward_creates_missing_grads_and_rejects_other_networks():
    online = DQN(4, 2)
    dqn_loss_backward(online, online, _batch(), 0.99)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in online.parameters())
    with pytest.raises(ValueError, match="policy_net"):
        dqn_loss_backward(DuelingDQN(4, 2), DuelingDQN(4, 2), _batch(), 0.99)


def test_train_dqn_with_autograd_gives_the_same_run(monkeypatch):
    """train_dqn backpropagates by hand for a DQN; with autograd instead, nothing changes."""
    config = DQNConfig.recommended()
    by_hand = train_dqn(config, seed=5, max_steps=400)

    def autograd_backward(policy_net, target_net, batch, gamma, double_dqn, loss):
        value, q_sa = dqn_loss(policy_net, target_net, batch, gamma, double_dqn, loss)
        for p in policy_net.parameters():
            p.grad.zero_()
        value.backward()
        return value.detach(), q_sa.detach()

    monkeypatch.setattr(dqn_module, "dqn_loss_backward", autograd_backward)
    with_autograd = train_dqn(config, seed=5, max_steps=400)
    assert by_hand.losses == with_autograd.losses and by_hand.mean_q == with_autograd.mean_q
    assert by_hand.episode_durations == with_autograd.episode_durations
    assert all(torch.equal(p, q) for p, q in zip(by_hand.policy_net.parameters(),
                                                 with_autograd.policy_net.parameters(),
                                                 strict=True))


# --------------------------------------------------------------------------- target updates


def test_soft_update_is_polyak_formula():
    torch.manual_seed(0)
    online, target = DQN(4, 2), DQN(4, 2)
    before = [p.clone() for p in target.parameters()]
    soft_update(target, online, tau=0.1)
    for new, old, theta in zip(target.parameters(), before, online.parameters(), strict=True):
        torch.testing.assert_close(new, 0.1 * theta + 0.9 * old)


def test_hard_update_copies():
    online, target = DQN(4, 2), DQN(4, 2)
    hard_update(target, online)
    for a, b in zip(target.parameters(), online.parameters(), strict=True):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- one weight vector


def test_flatten_parameters_views_and_gradients():
    torch.manual_seed(0)
    net = DQN(4, 2)
    x = torch.randn(5, 4)
    expected_out = net(x).detach().clone()
    expected_grads = torch.autograd.grad(net(x).sum(), list(net.parameters()))
    theta, grad = flatten_parameters(net)
    assert theta.numel() == sum(p.numel() for p in net.parameters())
    torch.testing.assert_close(net(x), expected_out)
    for _ in range(2):  # gradients accumulate in place into `grad`, zeroed in between
        grad.zero_()
        net(x).sum().backward()
        torch.testing.assert_close(grad, torch.cat([g.reshape(-1) for g in expected_grads]))
    theta.zero_()  # the parameters are views into theta
    assert all(torch.count_nonzero(p) == 0 for p in net.parameters())
    net.load_state_dict(DQN(4, 2).state_dict())  # loads in place: still views
    assert torch.count_nonzero(theta) > 0


@pytest.mark.parametrize("amsgrad", [True, False])
def test_flat_adamw_matches_torch_adamw(amsgrad):
    torch.manual_seed(0)
    net_a, net_b = DQN(4, 2), DQN(4, 2)
    net_b.load_state_dict(net_a.state_dict())
    reference = torch.optim.AdamW(net_a.parameters(), lr=1e-3, weight_decay=0.01, amsgrad=amsgrad)
    theta, grad = flatten_parameters(net_b)
    ours = FlatAdamW(theta, grad, lr=1e-3, weight_decay=0.01, amsgrad=amsgrad)
    for _ in range(20):
        x = torch.randn(16, 4)
        reference.zero_grad()
        (net_a(x) ** 2).mean().backward()
        reference.step()
        grad.zero_()
        (net_b(x) ** 2).mean().backward()
        ours.step()
    for a, b in zip(net_a.parameters(), net_b.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_flat_adamw_rejects_bad_lr():
    theta = torch.zeros(3)
    with pytest.raises(ValueError, match="lr"):
        FlatAdamW(theta, torch.zeros(3), lr=0)


# --------------------------------------------------------------------------- networks


def test_dqn_shapes():
    net = DQN(4, 2)
    assert net(torch.zeros(7, 4)).shape == (7, 2)
    assert net(torch.zeros(4)).shape == (2,)


def test_dueling_identity():
    torch.manual_seed(0)
    net = DuelingDQN(4, 3)
    x = torch.randn(6, 4)
    q = net(x)
    h = F.relu(net.layer1(x))
    value = net.value_head(F.relu(net.value_hidden(h)))
    advantage = net.advantage_head(F.relu(net.advantage_hidden(h)))
    torch.testing.assert_close(q, value + advantage - advantage.mean(dim=1, keepdim=True))
    # The mean over actions of Q is V(s): the mean advantage is zero.
    torch.testing.assert_close(q.mean(dim=1, keepdim=True), value)


# --------------------------------------------------------------------------- replay


def test_replay_buffer_wraps_around_and_samples_shapes():
    buffer = ReplayBuffer(5, (4,), rng=np.random.default_rng(0))
    for i in range(8):
        buffer.push(np.full(4, i, np.float32), i % 2, float(i), np.full(4, i + 1, np.float32),
                    i == 7)
    assert len(buffer) == 5 and buffer.position == 3
    # Rows 0..2 were overwritten by transitions 5..7; rows 3, 4 still hold 3, 4.
    np.testing.assert_array_equal(buffer.rewards.numpy(), [5, 6, 7, 3, 4])
    np.testing.assert_array_equal(buffer.terminated.numpy(), [0, 0, 1, 0, 0])
    batch = buffer.sample(5)
    assert batch.states.shape == (5, 4) and batch.next_states.shape == (5, 4)
    assert batch.actions.shape == (5,) and batch.actions.dtype == torch.int64
    assert batch.rewards.dtype == torch.float32 and batch.terminated.shape == (5,)
    # Without replacement: a batch of the whole buffer holds every transition once.
    assert sorted(batch.rewards.tolist()) == [3, 4, 5, 6, 7]
    torch.testing.assert_close(batch.next_states[:, 0], batch.states[:, 0] + 1)


@pytest.mark.parametrize("batch_size", [0, 4, 2.0])
def test_replay_buffer_sample_too_large(batch_size):
    buffer = ReplayBuffer(10, (4,))
    for _ in range(3):
        buffer.push(np.zeros(4), 0, 1.0, np.zeros(4), False)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(batch_size)


def test_replay_buffer_rejects_bad_capacity():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (4,))


def test_seed_replay_memory():
    memory = ReplayMemory(2)
    for i in range(3):
        memory.push(i, 0, None, 1.0)
    assert len(memory) == 2 and isinstance(memory.sample(2)[0], Transition)
    with pytest.raises(ValueError, match="batch_size"):
        memory.sample(3)
    with pytest.raises(ValueError, match="capacity"):
        ReplayMemory(0)


# --------------------------------------------------------------------------- configuration


def test_config_defaults_are_the_seed_hyperparameters():
    c = DQNConfig()
    assert (c.batch_size, c.gamma, c.eps_start, c.eps_end, c.eps_decay, c.tau, c.lr) == (
        128, 0.99, 0.9, 0.05, 1000, 0.005, 1e-4)
    assert (c.memory_size, c.hidden, c.amsgrad, c.loss, c.grad_clip_value) == (
        10_000, 128, True, "smooth_l1", 100)
    assert (c.use_replay, c.use_target_network, c.target_update, c.double_dqn, c.dueling) == (
        True, True, "soft", False, False)
    assert c.epsilon(0) == pytest.approx(0.9)
    assert c.epsilon(1000) == pytest.approx(0.05 + 0.85 / math.e)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gamma", 0.0), ("gamma", 1.5), ("tau", 0.0), ("tau", 1.01), ("batch_size", 0),
        ("batch_size", 1.5), ("lr", 0.0), ("eps_start", 1.2), ("eps_end", 0.95),
        ("eps_decay", 0), ("memory_size", 0), ("hidden", 0), ("loss", "l2"),
        ("grad_clip_value", -1.0), ("grad_clip_norm", 0.0), ("target_update", "sometimes"),
        ("target_update_every", 0), ("learning_starts", 0), ("train_every", 0),
    ],
)
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DQNConfig(**{field: value})


def test_memory_must_hold_a_batch():
    with pytest.raises(ValueError, match="memory_size"):
        DQNConfig(memory_size=64, batch_size=128)
    DQNConfig(memory_size=64, batch_size=128, use_replay=False)  # no replay: fine


def test_recommended_is_valid_and_replace_validates():
    assert isinstance(DQNConfig.recommended(), DQNConfig)
    assert DQNConfig().replace(lr=3e-4).lr == 3e-4
    with pytest.raises(ValueError, match="tau"):
        DQNConfig().replace(tau=2.0)


# --------------------------------------------------------------------------- trainer


def test_same_seed_same_run():
    a = train_dqn(DQNConfig(), seed=3, max_steps=600)
    b = train_dqn(DQNConfig(), seed=3, max_steps=600)
    c = train_dqn(DQNConfig(), seed=4, max_steps=600)
    assert a.episode_durations == b.episode_durations and a.losses == b.losses
    assert a.episode_durations != c.episode_durations
    assert a.total_steps == 600 == sum(a.episode_durations)
    assert len(a.epsilons) == 600 and len(a.losses) == 600 - 128 + 1


@pytest.mark.parametrize(
    "config",
    [
        DQNConfig(use_replay=False),
        DQNConfig(use_target_network=False),
        DQNConfig(target_update="hard", target_update_every=50),
        DQNConfig(double_dqn=True, dueling=True, grad_clip_norm=10.0, grad_clip_value=None),
        DQNConfig(train_every=4, learning_starts=200, loss="mse"),
    ],
)
def test_switches_run(config):
    result = train_dqn(config, seed=0, max_steps=300)
    assert result.total_steps == 300
    assert all(np.isfinite(result.losses))


def test_hard_update_copies_every_c_steps():
    result = train_dqn(DQNConfig(target_update="hard", target_update_every=100), seed=0,
                       max_steps=300)
    for a, b in zip(result.target_net.parameters(), result.policy_net.parameters(), strict=True):
        assert torch.equal(a, b)  # 300 is a multiple of C: just copied


def test_truncation_still_bootstraps():
    """Episodes cut by the time limit are stored with terminated = False."""
    gym.register(id="CartPoleShort-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=5)
    result = train_dqn(DQNConfig(), env_id="CartPoleShort-v0", num_episodes=4, seed=0)
    assert result.episode_durations == [5, 5, 5, 5]
    assert result.memory.terminated[:20].sum().item() == 0


def test_terminations_are_stored():
    result = train_dqn(DQNConfig(), seed=0, num_episodes=3)
    n = result.total_steps
    ends = np.cumsum(result.episode_durations) - 1
    terminated = result.memory.terminated[:n].numpy()
    np.testing.assert_array_equal(np.flatnonzero(terminated), ends)


def test_callback_and_eval_history():
    calls = []
    result = train_dqn(DQNConfig(), seed=0, num_episodes=5, eval_every=50,
                       callback=lambda episode, durations: calls.append((episode, len(durations))))
    assert calls == [(i, i + 1) for i in range(5)]
    assert result.eval_steps == list(range(50, result.total_steps + 1, 50))
    assert len(result.eval_returns) == len(result.eval_steps)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"env_id": "NoSuchEnv-v0"}, "env_id"),
        ({"env_id": "Pendulum-v1"}, "env_id"),
        ({"num_episodes": 0}, "num_episodes"),
        ({"max_steps": 0}, "max_steps"),
        ({"eval_every": 0}, "eval_every"),
        ({"stop_when_solved": True}, "eval_every"),
        ({"seed": -1}, "seed"),
        ({"config": {"lr": 1e-3}}, "config"),
    ],
)
def test_train_dqn_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_dqn(**kwargs)


# --------------------------------------------------------------------------- evaluation


class _AlwaysLeft(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.stack([torch.ones(len(x)), torch.zeros(len(x))], dim=1)


def test_evaluate_is_deterministic_and_pushing_one_way_fails():
    returns = evaluate(_AlwaysLeft(), "CartPole-v1", n_episodes=10, seed=5)
    assert returns.shape == (10,)
    np.testing.assert_array_equal(returns, evaluate(_AlwaysLeft(), "CartPole-v1", 10, seed=5))
    assert returns.max() < 20  # always pushing left topples the pole within a few steps
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate(_AlwaysLeft(), n_episodes=0)


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path):
    config = DQNConfig(hidden=32, dueling=True)
    net = DuelingDQN(4, 2, hidden=32)
    path = save_checkpoint(tmp_path / "agent.pt", net, config)
    loaded, loaded_config = load_checkpoint(path)
    assert loaded_config == config and isinstance(loaded, DuelingDQN)
    for (k, a), (k2, b) in zip(net.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)
    np.testing.assert_array_equal(evaluate(net, n_episodes=3), evaluate(loaded, n_episodes=3))


def test_checkpoint_missing_and_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nothing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(bad)
    with pytest.raises(ValueError, match="net"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2), DQNConfig())


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "agent.pt", DQN(4, 2), DQNConfig())
    before = path.read_bytes()

    def crash(obj, f):
        f.write(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint(path, DQN(4, 2), DQNConfig())
    assert path.read_bytes() == before  # the old checkpoint is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["agent.pt"]  # no temporary file left


# --------------------------------------------------------------------------- integration


def test_keep_best_returns_best_and_keeps_final():
    result = train_dqn(DQNConfig(), seed=0, max_steps=1_000, eval_every=250, keep_best=True)
    best = evaluate(result.policy_net, n_episodes=20, seed=10_000).mean()
    assert best == result.best_eval_return == max(result.eval_returns)
    assert result.final_net is not result.policy_net
    final = evaluate(result.final_net, n_episodes=20, seed=10_000).mean()
    assert final == result.eval_returns[-1]  # the last evaluation saw the final network
    plain = train_dqn(DQNConfig(), seed=0, max_steps=300)
    assert plain.final_net is plain.policy_net
