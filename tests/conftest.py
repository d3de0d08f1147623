"""Shared test settings."""

import torch

# The models under test are tiny: one thread is faster, and it keeps the suite from slowing
# down by an order of magnitude when another job shares the two cores (thread oversubscription).
torch.set_num_threads(1)
