r"""3D Infomax (Stärk et al., ICML 2022): a 2D encoder contrasted with a 3D encoder.

The same molecule is read twice: its graph by the 2D encoder :math:`f^{2D}` (what will be
fine-tuned) and its conformer by a 3D encoder :math:`f^{3D}`. Each pooled vector passes its own
projection head, and a contrastive loss pulls the two views of one molecule together and pushes
those of different molecules apart. Maximising the mutual information between the 2D and the
3D view makes the 2D encoder carry what it can of the geometry, *without ever reading a
conformer at fine-tuning time*: the paper's use case is a property of molecules whose 3D
structure is unknown. The loss of the authors' code (``NTXent`` in ``commons/losses.py``) is
one direction, 2D anchors against 3D candidates, with the positive left out of the denominator:

.. math::
    \mathcal{L} = -\frac{1}{B}\sum_i \log
      \frac{\exp(\cos(z^{2D}_i, z^{3D}_i)/\tau)}{\sum_{j \ne i}\exp(\cos(z^{2D}_i, z^{3D}_j)/\tau)}

which is :func:`cpmkit.pretrain.contrastive.info_nce` with ``symmetric=False,
include_positive=False`` (``code_objective=True``, the default); ``code_objective=False`` gives
the symmetric NT-Xent with the positive kept. Under ``torchrun`` the 3D candidates are gathered
from every process (global batch). The survey files 3D Infomax under cross-descriptor
contrast (its section 2.5); the kit teaches it with GEM in lesson 09, since its point is
geometry as knowledge for a 2D model.

Two parts: ``{"graph": GIN, "geometry": SchNetEncoder}``; the loop writes ``graph.pt`` and
``geometry.pt`` and ``finetune(pretrained=out, part="graph")`` starts the 2D encoder.

Deviations from the paper, named:

- **2D encoder**: the kit's Hu et al. GIN (the paper: PNA).
- **3D encoder**: PyG's SchNet interaction blocks (:class:`~cpmkit.models.geometric.
  SchNetEncoder`, cutoff radius graph) instead of the paper's Net3D (message passing over the
  complete graph with Fourier features of distances); both read distances only, so both are
  invariant to rotations and translations.
- **Conformers**: one seeded ETKDGv3 + MMFF94 conformer per molecule of a MOSES sample (scheme
  ``"hu3d"``) instead of GEOM-Drugs / QM9 conformers (CREST or DFT), and no multi-conformer
  variant.
- **Heads**: two-layer MLPs with ReLU and no batch norm (the paper's projection MLPs use batch
  norm); mean pooling on both sides.

Taught in ``notebooks/09_knowledge_enriched``.
"""

from __future__ import annotations

from torch import nn
from torch_geometric.nn import global_mean_pool

from cpmkit.pretrain.base import Strategy
from cpmkit.pretrain.contrastive import _graph_vectors, agreement, info_nce, projection_head


class Infomax3D(Strategy):
    """The 2D GIN against a 3D SchNet on the same molecules (two parts, InfoNCE).

    Parameters
    ----------
    encoder : GNN
        The 2D encoder (mean pooling); part ``"graph"``.
    geometry_encoder : SchNetEncoder, optional
        Default: ``SchNetEncoder(hidden_channels=encoder.out_dim, num_interactions,
        cutoff)``; part ``"geometry"``.
    temperature : float
        :math:`\\tau` (0.1 in the authors' pre-training configurations).
    code_objective : bool
        ``True``: the authors' NTXent (one direction, positive not in the denominator);
        ``False``: symmetric InfoNCE with the positive.

    The corpus must carry ``z`` and ``pos`` of the atoms of ``x`` (scheme ``"hu3d"``).
    """

    name = "infomax3d"
    input_family = "graph"

    def __init__(
        self,
        encoder,
        geometry_encoder=None,
        temperature: float = 0.1,
        code_objective: bool = True,
        num_interactions: int = 3,
        cutoff: float = 5.0,
    ):
        super().__init__(encoder)
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        if geometry_encoder is None:
            from cpmkit.models.geometric import SchNetEncoder

            geometry_encoder = SchNetEncoder(
                hidden_channels=encoder.out_dim, num_interactions=num_interactions, cutoff=cutoff
            )
        self.geometry_encoder = geometry_encoder
        self.temperature, self.code_objective = float(temperature), bool(code_objective)
        self.num_interactions, self.cutoff = int(num_interactions), float(cutoff)
        dim = encoder.out_dim
        self.graph_head = projection_head(dim)
        self.geometry_head = nn.Sequential(
            nn.Linear(geometry_encoder.out_dim, dim), nn.ReLU(), nn.Linear(dim, dim)
        )

    def parts(self):
        return {"graph": self.encoder, "geometry": self.geometry_encoder}

    def embed_2d(self, batch):
        """Projected 2D vectors ``(num_graphs, dim)``."""
        return self.graph_head(_graph_vectors(self.encoder, batch))

    def embed_3d(self, batch):
        """Projected 3D vectors ``(num_graphs, dim)``."""
        atoms = self.geometry_encoder(batch.z, batch.pos, batch.batch)
        return self.geometry_head(global_mean_pool(atoms, batch.batch, size=batch.num_graphs))

    def loss(self, batch):
        if getattr(batch, "pos", None) is None or getattr(batch, "z", None) is None:
            raise ValueError("3D Infomax needs conformers: load the corpus with scheme='hu3d'")
        z2d, z3d = self.embed_2d(batch), self.embed_3d(batch)
        one_way = self.code_objective
        loss = info_nce(
            z2d, z3d, self.temperature, symmetric=not one_way, include_positive=not one_way
        )
        return loss, {"acc": agreement(z2d, z3d)}

    def hparams(self):
        return {
            "temperature": self.temperature,
            "code_objective": self.code_objective,
            "geometry_encoder": type(self.geometry_encoder).__name__,
            "num_interactions": self.num_interactions,
            "cutoff": self.cutoff,
        }


__all__ = ["Infomax3D"]
