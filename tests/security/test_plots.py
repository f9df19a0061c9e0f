"""Text that reaches a plot is a label, never markup: a model named with matplotlib mathtext draws as written.

pytest tests/security/test_plots.py -q
"""

from __future__ import annotations

import io

import numpy as np

from hitl.service.arena import Board

EVIL = r"mt$\notacommand{$x"


def test_the_leaderboard_heatmap_draws_model_names_as_plain_text():
    from collection_ui.leaderboard import _heatmap

    models = [EVIL, "plain-model"]
    board = Board("human", [], models, np.array([[np.nan, 0.25], [0.75, np.nan]]), np.array([[0, 4], [4, 0]]), 4)
    fig = _heatmap(board)
    fig.savefig(io.BytesIO(), format="png")  # mathtext parsing would raise ValueError here
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert EVIL in labels
