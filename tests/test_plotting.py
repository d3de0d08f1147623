"""cpmkit.plotting's schematic and conformer helpers draw what they are given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from rdkit import Chem  # noqa: E402

from cpmkit.plotting import ELEMENT_COLOURS, PALETTE, arrow, box, draw_conformer  # noqa: E402


def test_box_and_arrow_draw_a_labelled_schematic():
    fig, ax = plt.subplots()
    box(ax, (1.0, 2.0), "encoder", PALETTE[0], width=2.0, height=1.0)
    arrow(ax, (3.0, 2.5), (4.0, 2.5), "pool")
    arrow(ax, (0.0, 0.0), (1.0, 0.0))  # no label: no text
    (patch,) = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert (patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()) == (
        1.0,
        2.0,
        2.0,
        1.0,
    )
    assert matplotlib.colors.to_hex(patch.get_facecolor()) == PALETTE[0].lower()
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert texts["encoder"] == (2.0, 2.5)  # centred in the box
    assert texts["pool"] == pytest.approx((3.55, 2.65))  # just above the arrow's midpoint
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 2 and {a.xy for a in arrows} == {(4.0, 2.5), (1.0, 0.0)}
    plt.close(fig)


def test_draw_conformer_one_ball_per_atom_one_stick_per_bond():
    mol = Chem.MolFromSmiles("OCC(=O)N")
    pos = np.arange(mol.GetNumAtoms() * 3, dtype=float).reshape(-1, 3)
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    draw_conformer(ax, mol, pos, alpha=0.5)
    assert len(ax.lines) == mol.GetNumBonds()
    labels = [c.get_label() for c in ax.collections]
    assert labels == ["C", "N", "O"]  # one scatter per element, by atomic number
    sizes = {c.get_label(): len(c.get_offsets()) for c in ax.collections}
    assert sizes == {"C": 2, "N": 1, "O": 2}
    colours = {
        c.get_label(): matplotlib.colors.to_hex(c.get_facecolor()[0], keep_alpha=False)
        for c in ax.collections
    }
    assert colours["O"] == ELEMENT_COLOURS[8].lower()
    faint = fig.add_subplot(projection="3d")
    draw_conformer(faint, mol, pos, legend=False)
    assert all(c.get_label().startswith("_") for c in faint.collections)  # not in a legend
    plt.close(fig)
