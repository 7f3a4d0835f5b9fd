"""Reproducibility and hardware: one seed, one device, sane CPU settings for tiny networks.

Every lesson starts with ``seed_everything(seed)``. It fixes the three random number
generators a lesson touches -- Python's ``random``, NumPy's global generator and torch's.
The environment is the fourth source of randomness and is seeded where it is used::

    observation, info = env.reset(seed=seed)   # the environment's own RNG
    env.action_space.seed(seed)                 # used by env.action_space.sample()

Only the first ``reset`` of an environment takes the seed; later resets continue
the same random stream, so a whole run is reproducible from that one call.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["seed_everything", "pick_device", "set_cpu_threads"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed ``random``, NumPy and torch, and return a fresh NumPy ``Generator``.

    Args:
        seed: a non-negative integer.

    Returns:
        ``numpy.random.default_rng(seed)``, the generator lessons pass around
        explicitly instead of using global state.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- the legacy global generator, for code that uses it
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(prefer_cuda: bool = True) -> torch.device:
    """CUDA when it is present (and wanted), otherwise the CPU.

    The series targets the CPU: CartPole's networks are so small that a GPU
    rarely helps, because every environment step needs a round trip to the host.
    """
    if prefer_cuda and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def set_cpu_threads(num_threads: int = 1, flush_denormal: bool = True) -> None:
    """Set torch up for tiny networks on a CPU: how many threads, and denormal floats.

    For networks as small as ours (a few thousand weights, batches of 128) one
    thread is the right default: the work per operation is too small to split,
    and extra threads only add synchronisation. On a shared 2-core machine,
    torch's default of one thread per core made a tiny-MLP training loop many
    times slower whenever a neighbouring process was busy, and was slower even
    on a quiet machine.

    ``flush_denormal`` (``torch.set_flush_denormal``) makes the CPU treat float32
    numbers below about 1.2e-38 ("denormals") as zero. Adam's moment estimates
    for weights whose gradient has died out decay geometrically into that range,
    and x86 CPUs compute on denormals tens of times more slowly: an AdamW step on
    such a state took 11x as long here, and flushing sped the DQN trainer up by
    about 8 %. The values it zeroes are far too small to move a weight (with
    Adam's ``eps = 1e-8`` they make updates below ``lr * 1e-30``), and every run
    in the series comes out identical with and without it. It applies to the
    calling thread, NumPy included, until changed again.
    """
    if not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be an integer >= 1, got {num_threads!r}")
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    torch.set_flush_denormal(bool(flush_denormal))
