"""plot_q_triangles (lesson 01): one triangle per action, best outlined, bad input named."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from helpers.plotting import CLIFFWALKING_ARROWS, FROZENLAKE_ARROWS, plot_q_triangles


def _collections(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_one_triangle_per_action_and_best_outlined():
    q = np.array([[0.1, 0.5, 0.2, 0.3],      # best: down
                  [0.4, 0.4, 0.0, 0.1],      # a tie: left and down
                  [0.0, 0.0, 0.0, 0.0],      # terminal
                  [0.9, 0.1, 0.1, 0.1]])
    ax = plot_q_triangles(q, (2, 2), terminal=[2], title="Q", state_labels=True)
    grey, coloured, best = _collections(ax)
    assert len(grey.get_paths()) == 4 and len(coloured.get_paths()) == 12
    np.testing.assert_array_equal(coloured.get_array(), q[[0, 1, 3]].ravel())
    assert len(best.get_paths()) == 4                      # down, left and down, left
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("0.50") == 1 and "2" in texts and ax.get_title() == "Q"
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert sorted(bold) == ["0.40", "0.40", "0.50", "0.90"]
    assert ax.figure.axes[-1].get_ylabel() == "action value $Q(s, a)$"
    plt.close(ax.figure)


def test_triangles_point_the_way_the_action_pushes():
    q = np.zeros((1, 4))
    ax = plot_q_triangles(q, (1, 1), colorbar=False, state_labels=False)
    _, coloured, _ = _collections(ax)
    centroids = [path.vertices[:3].mean(axis=0) for path in coloured.get_paths()]
    # FrozenLake: 0 left (x < 0), 1 down (y > 0: rows grow downwards), 2 right, 3 up
    (lx, ly), (dx, dy), (rx, ry), (ux, uy) = centroids
    assert lx < 0 and abs(ly) < 1e-9 and dy > 0 and rx > 0 and uy < 0
    plt.close(ax.figure)
    ax = plot_q_triangles(q, (1, 1), colorbar=False, action_arrows=CLIFFWALKING_ARROWS)
    _, coloured, _ = _collections(ax)
    first = coloured.get_paths()[0].vertices[:3].mean(axis=0)
    assert first[1] < 0                                  # CliffWalking's action 0 is up
    plt.close(ax.figure)


def test_draws_on_given_axes_with_shared_scale():
    fig, ax = plt.subplots()
    out = plot_q_triangles(np.full((4, 4), 0.5), (2, 2), ax=ax, vmin=0, vmax=1, colorbar=False)
    assert out is ax
    _, coloured, _ = _collections(ax)
    assert coloured.get_clim() == (0, 1)
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"q_values": np.zeros((4, 4)), "shape": (2, 0)}, "shape"),
        ({"q_values": np.zeros((5, 4)), "shape": (2, 2)}, "q_values"),
        ({"q_values": np.zeros(4), "shape": (2, 2)}, "q_values"),
        ({"q_values": np.zeros((4, 5)), "shape": (2, 2)}, "action_arrows"),
        ({"q_values": np.zeros((4, 4)), "shape": (2, 2),
          "action_arrows": {**FROZENLAKE_ARROWS, 3: "sideways"}}, "action_arrows"),
        ({"q_values": np.zeros((4, 4)), "shape": (2, 2), "tol": -1}, "tol"),
    ],
)
def test_bad_input_raises_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plot_q_triangles(**kwargs)
    plt.close("all")
