"""cpmkit: a teaching and reproduction kit for chemical pre-trained models.

The kit follows the IJCAI 2023 survey *A Systematic Survey of Chemical Pre-trained Models*
(Xia et al.); each survey section is a notebook under ``notebooks/`` backed by this library.
"""

__version__ = "0.1.0"
