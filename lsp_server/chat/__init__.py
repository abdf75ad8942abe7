"""Chat sessions, code-action prompts and the ranges they work on. Knows nothing of LSP."""
