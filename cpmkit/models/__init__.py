"""Encoders and heads (no data): Hu et al.'s GNN family, graph predictor, weight loading."""

from cpmkit.models.gnn import GNN
from cpmkit.models.graph_model import GNNConfig, GraphPredictor
from cpmkit.models.pretrained import load_hu_weights

__all__ = ["GNN", "GNNConfig", "GraphPredictor", "load_hu_weights"]
