"""Talking to model endpoints. Knows nothing of LSP."""
