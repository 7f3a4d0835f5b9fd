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
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from helpers.validation import as_bool, as_int, as_seed

if TYPE_CHECKING:
    import torch

# torch is imported where it is needed, not here: the tabular lessons never use it, and
# importing it costs a second or two of a lesson's start-up.

__all__ = [
    "seed_everything",
    "pick_device",
    "set_cpu_threads",
    "denormals_flushed",
    "restoring_torch_state",
]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed ``random``, NumPy and torch, and return a fresh NumPy ``Generator``.

    Args:
        seed: an integer in ``[0, 2**64 - 1]`` (NumPy integers too).

    torch is seeded when it has been imported (every lesson that uses torch imports it
    before calling this); a NumPy-only lesson does not pay for importing it.

    Returns:
        ``numpy.random.default_rng(seed)``, the generator lessons pass around
        explicitly instead of using global state.
    """
    seed = as_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- the legacy global generator, for code that uses it
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(prefer_cuda: bool = True) -> torch.device:
    """CUDA when it is present (and wanted), otherwise the CPU.

    The series targets the CPU: CartPole's networks are so small that a GPU
    rarely helps, because every environment step needs a round trip to the host.
    """
    import torch

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
    import torch

    num_threads = as_int(num_threads, "num_threads", 1)
    flush_denormal = as_bool(flush_denormal, "flush_denormal")
    if torch.get_num_threads() != num_threads:
        torch.set_num_threads(num_threads)
    torch.set_flush_denormal(flush_denormal)


def denormals_flushed() -> bool:
    """Whether the calling thread flushes denormal floats to zero (see :func:`set_cpu_threads`).

    Torch can set this but not report it, so we ask the CPU: 1e-39 is a float32
    denormal, which survives the conversion only when flushing is off.
    """
    import torch

    return torch.tensor([1e-39]).mul_(1.0).item() == 0.0


@contextmanager
def restoring_torch_state() -> Iterator[None]:
    """Run a block, then put back the torch settings it may change for the whole kernel.

    Three settings: the state of torch's global random number generator (the CPU
    one, which ``torch.manual_seed`` seeds and new networks draw their initial
    weights from), the number of CPU threads, and the flushing of denormals.
    :func:`helpers.dqn.train_dqn` runs inside it, so that training seeds and sets
    torch up as it needs without touching the notebook's own settings::

        torch.manual_seed(1)
        with restoring_torch_state():
            torch.manual_seed(0)
            ...
        torch.rand(1)  # the same number as right after torch.manual_seed(1)
    """
    import torch

    rng_state = torch.get_rng_state()
    num_threads = torch.get_num_threads()
    flushed = denormals_flushed()
    try:
        yield
    finally:
        torch.set_rng_state(rng_state)
        if torch.get_num_threads() != num_threads:
            torch.set_num_threads(num_threads)
        torch.set_flush_denormal(flushed)
