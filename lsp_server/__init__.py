"""qwen-lsp: a language server for Qwen coder models."""

__version__ = "0.1.0"
