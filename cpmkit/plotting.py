"""One plot style for every lesson, and figures saved where the run summary finds them.

Call :func:`use_style` once near the top of a notebook; end each plotting cell with
``plt.show()`` (a bare figure repr would break nbval's output comparison) after
:func:`save_figure`. Nothing here picks a backend or touches the network: inside Jupyter the
inline backend draws, in a script or a headless test matplotlib falls back to Agg itself.

Taught in ``notebooks/00_quickstart``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

from cpmkit.report import notebook_name, output_dir

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)
DPI = 120

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "image.cmap": "viridis",
    "svg.hashsalt": "cpmkit",  # reproducible ids if a lesson saves SVG
}


def use_style() -> None:
    """Apply cpmkit's plot style (matplotlib rcParams only; no backend change, no network).

    Taught in ``notebooks/00_quickstart``.
    """
    mpl.rcParams.update(STYLE)


def save_figure(fig, notebook: str, name: str) -> Path:
    """Save ``fig`` as ``<notebook>.<name>.png`` in ``output_dir(notebook)``; returns the path.

    The run summary links every PNG named this way beside its notebook's row.

    Parameters
    ----------
    fig
        A matplotlib ``Figure`` (e.g. from ``plt.subplots()``).
    notebook
        The notebook's name, e.g. ``"01_descriptors"``.
    name
        A short label such as ``"training_curve"``; characters outside ``[A-Za-z0-9_-]``
        become ``_``.

    Taught in ``notebooks/00_quickstart``.
    """
    stem = name[: -len(".png")] if name.lower().endswith(".png") else name
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")
    if not stem:
        raise ValueError(f"figure name {name!r} has no usable characters")
    nb = notebook_name(notebook)
    path = output_dir(nb) / f"{nb}.{stem}.png"
    # no Software/date metadata, so the same figure gives the same bytes
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def as_image(picture):
    """A PIL image from what RDKit's drawing functions return.

    That is a PIL image in a script, PNG bytes from the Cairo drawer, and, inside Jupyter (where
    RDKit's notebook hooks are active), an IPython PNG object; ``ax.imshow`` needs the first.
    Taught in ``notebooks/01_descriptors``.
    """
    from PIL import Image

    if isinstance(picture, Image.Image):
        return picture
    return Image.open(io.BytesIO(getattr(picture, "data", picture)))


def molecule_grid(mols, legends=None, per_row: int = 6, size=(200, 160), title: str | None = None):
    """A matplotlib figure of RDKit molecules in a grid, with optional legends.

    RDKit's own ``MolsToGridImage`` returns an IPython image inside Jupyter and a PIL image
    elsewhere; drawing to PNG bytes ourselves gives one figure that ``save_figure`` can save
    in both. Taught in ``notebooks/00_quickstart``.
    """
    from rdkit.Chem.Draw import rdMolDraw2D

    mols = list(mols)
    if not mols:
        raise ValueError("molecule_grid needs at least one molecule")
    legends = [str(text) for text in legends] if legends is not None else [""] * len(mols)
    cols = min(per_row, len(mols))
    rows = -(-len(mols) // cols)
    drawer = rdMolDraw2D.MolDraw2DCairo(cols * size[0], rows * size[1], size[0], size[1])
    drawer.DrawMolecules(mols, legends=legends)
    drawer.FinishDrawing()
    image = as_image(drawer.GetDrawingText())
    fig, ax = plt.subplots(figsize=(cols * size[0] / 100, rows * size[1] / 100 + 0.4))
    ax.imshow(image)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


__all__ = ["PALETTE", "STYLE", "as_image", "molecule_grid", "save_figure", "use_style"]
