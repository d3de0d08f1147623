"""Downstream tasks: the fine-tune/evaluate harness and its metrics."""
