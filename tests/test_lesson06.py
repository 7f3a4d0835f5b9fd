"""Lesson 06 as committed: the pseudocode beside the loop, a small offline
animation, and the ReLU-gradient identity its appendix relies on."""

import base64
import json
import re

import torch
from notebook_files import lesson_cells, source_of


def test_pseudocode_lines_are_all_in_the_code():
    """Every numbered line of the pseudocode is named in a code comment, and vice versa."""
    cells = lesson_cells("06")
    pseudocode = next(source_of(c) for c in cells
                      if c["cell_type"] == "markdown" and "```text" in source_of(c))
    numbered = {int(n) for n in re.findall(r"^ ?(\d+) {2,}\S", pseudocode, re.M)}
    assert numbered == set(range(1, 15))
    named = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for first, last in re.findall(r"#.*?\blines? (\d+)(?:-(\d+))?", source_of(cell)):
            named |= set(range(int(first), int(last or first) + 1))
    assert numbered <= named, f"pseudocode lines never named in the code: {numbered - named}"


def _outputs():
    return [o for c in lesson_cells("06") if c["cell_type"] == "code" for o in c.get("outputs", [])]


def test_animation_is_offline_small_and_has_a_static_picture():
    outputs = _outputs()
    html = json.dumps([o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})])
    assert "<script" not in html and "http" not in html, "nothing loaded from the internet"
    gifs = [o["data"]["image/gif"] for o in outputs if "image/gif" in o.get("data", {})]
    assert len(gifs) == 1, "one animated GIF"
    assert len(base64.b64decode(gifs[0])) < 150_000
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 5  # filmstrip and plots


def test_lesson_loop_matched_train_dqn_in_the_committed_run():
    stream = "".join("".join(o.get("text", "")) for o in _outputs() if o["output_type"] == "stream")
    assert re.search(r"identical: [\d,]+ losses and mean Q-values, \d+ episodes, and all "
                     r"17,410 weights", stream)
    assert re.search(r"held-out judge: .* mean (4[89]\d|500)\.\d", stream)


def test_relu_gradient_identity_of_the_appendix():
    """threshold_backward(g, h, 0) is g * (h > 0): the ReLU's gradient, as the appendix says."""
    torch.manual_seed(0)
    g = torch.randn(128, 128)
    h = torch.relu(torch.randn(128, 128))
    h[0, :5] = 0.0  # exact zeros: inactive units
    assert torch.equal(torch.ops.aten.threshold_backward(g, h, 0), g * (h > 0))
