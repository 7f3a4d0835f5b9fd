import random

import numpy as np
import pytest
import torch

from helpers import pick_device, seed_everything, set_cpu_threads


def test_seed_everything_fixes_all_generators():
    rng_a = seed_everything(123)
    draws_a = (random.random(), np.random.rand(), torch.rand(1).item(), rng_a.random())  # noqa: NPY002
    rng_b = seed_everything(123)
    draws_b = (random.random(), np.random.rand(), torch.rand(1).item(), rng_b.random())  # noqa: NPY002
    assert draws_a == draws_b


def test_different_seeds_differ():
    seed_everything(1)
    a = torch.rand(3)
    seed_everything(2)
    assert not torch.equal(a, torch.rand(3))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", None, True])
def test_seed_everything_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)


def test_pick_device_cpu_when_not_preferred():
    assert pick_device(prefer_cuda=False) == torch.device("cpu")
    assert pick_device().type in {"cpu", "cuda"}


def test_set_cpu_threads():
    before = torch.get_num_threads()
    try:
        set_cpu_threads(1, flush_denormal=False)
        denormal = torch.tensor([1e-39])  # below float32's smallest normal number, 1.2e-38
        assert torch.get_num_threads() == 1
        assert (denormal * 1.0).item() > 0
        set_cpu_threads(1)
        if torch.set_flush_denormal(True):  # True where the CPU supports flushing
            assert (denormal * 1.0).item() == 0.0
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)
    with pytest.raises(ValueError, match="num_threads"):
        set_cpu_threads(0)
