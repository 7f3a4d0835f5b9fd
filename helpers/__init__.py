"""Shared code for the value-based RL series.

Each module holds code that a lesson has already taught, so that later lessons
can import it instead of repeating it:

- :mod:`helpers.runtime`  -- seeding, device choice, CPU threads (all lessons)
- :mod:`helpers.plotting` -- episode-duration plots, static and live (all lessons)
- :mod:`helpers.display`  -- progress bars and widgets whose saved output reads well on
  GitHub and in the book (all lessons)
- :mod:`helpers.checks`   -- instant-feedback checks for the exercises
- :mod:`helpers.tabular`  -- dynamic programming and tabular Q-learning (lessons 01, 02, 07)
- :mod:`helpers.dqn`      -- the Deep Q-Network trainer (lessons 03-07)
- :mod:`helpers.curves`   -- learning curves over env steps: windows, returns, mean and range
- :mod:`helpers.validation` -- the argument checks every module shares: NumPy numbers
  welcome, ``True`` not an integer, NaN and infinity refused, errors that name the argument
"""

from helpers.runtime import pick_device, seed_everything, set_cpu_threads

__all__ = ["pick_device", "seed_everything", "set_cpu_threads"]
__version__ = "0.2.0"
