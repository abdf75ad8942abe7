"""Run the language server with ``python -m lsp_server``."""

from lsp_server.cli import main

raise SystemExit(main())
