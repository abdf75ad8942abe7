"""Repository knowledge: languages, files, symbols, retrieval. Knows nothing of LSP."""
