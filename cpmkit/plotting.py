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
import numpy as np
from matplotlib.patches import FancyBboxPatch

from cpmkit.results import notebook_name, output_dir

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
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


# --------------------------------------------------------------------------------------------
# method schematics: rounded boxes joined by arrows, drawn in data coordinates of one axes
# --------------------------------------------------------------------------------------------
def box(ax, xy, text: str, color: str, width: float = 2.2, height: float = 0.9) -> None:
    """One rounded box with centred text: the building block of a method schematic.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on (data coordinates; call ``ax.axis("off")`` for a diagram).
    xy : (float, float)
        Lower-left corner of the box.
    text : str
        The label, centred; may hold newlines and mathtext (``"$h_1$"``).
    color : str
        Fill colour, e.g. one of :data:`PALETTE` or ``"#FFFFFF"``.
    width, height : float
        Size of the box in data units.

    Taught in ``notebooks/02_autoencoding`` (the SMILES Transformer's schematic).
    """
    ax.add_patch(
        FancyBboxPatch(
            xy, width, height, boxstyle="round,pad=0.08", fc=color, ec="black", lw=1, alpha=0.9
        )
    )
    ax.text(xy[0] + width / 2, xy[1] + height / 2, text, ha="center", va="center", fontsize=9)


def arrow(ax, start, end, text: str = "") -> None:
    """An arrow from ``start`` to ``end`` (data coordinates), with an optional grey label.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes of the schematic.
    start, end : (float, float)
        Tail and head of the arrow.
    text : str
        A label placed just above the arrow's midpoint (``""``: none).

    Taught in ``notebooks/02_autoencoding`` (the SMILES Transformer's schematic).
    """
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", lw=1.4))
    if text:
        ax.text(
            (start[0] + end[0]) / 2 + 0.05,
            (start[1] + end[1]) / 2 + 0.15,
            text,
            ha="center",
            fontsize=8,
            color="dimgrey",
        )


# --------------------------------------------------------------------------------------------
# 3D conformers
# --------------------------------------------------------------------------------------------
#: element colours for 3D pictures (CPK-like, readable on white); others are grey
ELEMENT_COLOURS = {
    6: "#404040",
    7: "#0072B2",
    8: "#D55E00",
    9: "#009E73",
    15: "#E69F00",
    16: "#C9B000",
    17: "#2CA02C",
    35: "#8C564B",
    53: "#CC79A7",
}


def draw_conformer(ax, mol, pos, alpha: float = 1.0, legend: bool = True) -> None:
    """Atoms of ``mol`` at ``pos`` as balls coloured by element, bonds as grey sticks.

    Parameters
    ----------
    ax : mpl_toolkits.mplot3d.Axes3D
        A 3D axes, e.g. ``fig.add_subplot(projection="3d")``.
    mol : rdkit.Chem.Mol
        The molecule whose atoms ``pos`` holds, in the same order (heavy atoms only, as
        :func:`cpmkit.featurize.conformer.embed_conformer` returns them by default).
    pos : numpy.ndarray
        ``(N, 3)`` coordinates in Angstrom.
    alpha : float
        Opacity; draw a second, aligned conformer faint to overlay two.
    legend : bool
        Label each element once, for ``ax.legend()``.

    Taught in ``notebooks/01_descriptors``.
    """
    from rdkit import Chem

    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        ax.plot(*pos[[i, j]].T, color="grey", lw=2, alpha=alpha)
    numbers = np.array([atom.GetAtomicNum() for atom in mol.GetAtoms()])
    table = Chem.GetPeriodicTable()
    for number in sorted(set(numbers)):
        at = numbers == number
        ax.scatter(
            *pos[at].T,
            s=110,
            color=ELEMENT_COLOURS.get(number, "#999999"),
            alpha=alpha,
            edgecolors="black",
            linewidths=0.5,
            depthshade=False,
            label=table.GetElementSymbol(int(number)) if legend else None,
        )
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")
    ax.set_zlabel("z (Å)")


__all__ = [
    "ELEMENT_COLOURS",
    "PALETTE",
    "STYLE",
    "arrow",
    "as_image",
    "box",
    "draw_conformer",
    "molecule_grid",
    "save_figure",
    "use_style",
]
