"""The open documents as the feature modules see them: text, version, paths, encoding."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from pygls.uris import to_fs_path

from lsp_server.context.languages import canonical_language, language_for_document
from lsp_server.nextedit.service import NextEditRequest
from lsp_server.server import QwenLanguageServer


@dataclass(frozen=True)
class Document:
    """An open document as the server holds it."""

    uri: str
    path: str | None
    rel: str
    text: str
    version: int | None
    language: str | None
    encoding: str
    repo: str | None = None
    language_id: str | None = None  # the editor's, in its canonical spelling


def _folder_of(ls: QwenLanguageServer, path: str) -> tuple[str, str] | None:
    """Return (root, name) of the workspace folder that holds `path`."""
    for folder in ls.workspace.folders.values():
        root = to_fs_path(folder.uri)
        if root and path.startswith(root.rstrip(os.sep) + os.sep):
            return root, folder.name
    return None


def document(ls: QwenLanguageServer, uri: str) -> Document | None:
    """Return the open document at `uri`, or None when the editor has not opened it."""
    doc = ls.workspace.text_documents.get(unquote(uri)) or ls.workspace.text_documents.get(uri)
    if doc is None:
        return None
    path = to_fs_path(uri) if uri.startswith("file:") else None
    rel, repo = (os.path.basename(path) if path else uri.rsplit("/", 1)[-1]), None
    folder = _folder_of(ls, path) if path else None
    if folder is not None:
        rel, repo = os.path.relpath(path, folder[0]).replace(os.sep, "/"), folder[1]
    encoding = str(
        getattr(doc.position_codec.encoding, "value", None)
        or doc.position_codec.encoding
        or "utf-16"
    )
    return Document(
        uri,
        path,
        rel,
        doc.source,
        doc.version,
        language_for_document(path or uri, doc.language_id),
        encoding,
        repo,
        canonical_language(doc.language_id) if doc.language_id else None,
    )


def workspace_root(ls: QwenLanguageServer, path: str) -> str | None:
    """Return the workspace folder that holds `path`."""
    folder = _folder_of(ls, path)
    return folder[0] if folder else None


def plain(value: Any) -> Any:
    """Return custom-method params (pygls namedtuples) as plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__attrs_attrs__"):  # an lsprotocol object passed through
        return plain({a.name: getattr(value, a.name) for a in value.__attrs_attrs__})
    return value


def next_edit_request(doc: Document, offset: int, *, explicit: bool,
                      received: float | None) -> NextEditRequest:
    """Return the next-edit request for a cursor in an open document."""
    return NextEditRequest(key=doc.uri, text=doc.text, version=doc.version, offset=offset,
                           path=doc.path, rel=doc.rel, language=doc.language,
                           received_at=received, explicit=explicit)
