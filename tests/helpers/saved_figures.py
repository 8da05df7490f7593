"""Capture the matplotlib figures that code under test saves, to check what they show."""

from typing import Dict, List, Tuple

import numpy as np
from matplotlib.figure import Figure


def record_saved_figures(monkeypatch) -> List[Figure]:
    """A list that receives every figure passed to ``Figure.savefig`` from now on (the
    file is still written)."""
    saved: List[Figure] = []
    savefig = Figure.savefig

    def recording_savefig(figure: Figure, *args, **kwargs):
        saved.append(figure)
        return savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, 'savefig', recording_savefig)
    return saved


def image_panels(figure: Figure) -> List[Tuple[str, np.ndarray]]:
    """``(title, array shown)`` of each axis that shows an image, left to right."""
    axes = sorted((a for a in figure.axes if a.get_images()), key=lambda a: a.get_position().x0)
    return [(a.get_title(), np.asarray(a.get_images()[0].get_array())) for a in axes]


def curves(figure: Figure) -> Dict[str, Dict[str, Tuple[list, list]]]:
    """``{panel title: {line label: (x values, y values)}}`` of a figure's line plots."""
    return {
        axis.get_title(): {
            line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
            for line in axis.get_lines()
        }
        for axis in figure.axes
        if axis.get_visible()
    }


def legend_labels(figure: Figure) -> List[str]:
    """Texts of the figure-level legend entries."""
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]
