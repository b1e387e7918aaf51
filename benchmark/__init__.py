"""Galaxy Sommelier: an out-of-distribution benchmark for galaxy-morphology models.

Importing this package stays light (no torch, no transformers) so the evaluator starts fast.
"""

__version__ = "0.1.0"
