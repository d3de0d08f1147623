"""Encoders and heads (no data): Hu et al.'s GNN family, graph predictor, published weights."""

from cpmkit.models.gnn import GNN
from cpmkit.models.graph_model import GNNConfig, GraphPredictor
from cpmkit.models.pretrained import HU_WEIGHTS, load_hu_weights

__all__ = ["GNN", "GNNConfig", "GraphPredictor", "HU_WEIGHTS", "load_hu_weights"]
