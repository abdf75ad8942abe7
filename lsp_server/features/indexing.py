"""Repository indexing: start-up build with $/progress, workspace/didChangeWatchedFiles
(or a look at the disk every few seconds for clients that report no file events)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

if TYPE_CHECKING:
    from lsp_server.server import QwenLanguageServer

log = logging.getLogger(__name__)

_KINDS = {types.FileChangeType.Created: "created", types.FileChangeType.Changed: "changed",
          types.FileChangeType.Deleted: "deleted"}
_REPORT_EVERY = 0.2  # seconds between progress reports; editors need no more
POLL_SECONDS = 3.0  # how often the disk is looked at when the client reports no file events


def workspace_roots(ls: QwenLanguageServer) -> list[str]:
    """Return the filesystem paths of the workspace folders (or the root URI)."""
    roots = [to_fs_path(f.uri) for f in ls.workspace.folders.values()]
    if not roots and ls.workspace.root_uri:
        roots = [to_fs_path(ls.workspace.root_uri)]
    return [r for r in roots if r]


async def build_index(ls: QwenLanguageServer) -> None:
    """Index the workspace in the background, showing progress when the client can."""
    context = ls.context
    if context is None:
        return
    window = ls.client_capabilities.window
    token: str | None = None
    if window and window.work_done_progress:
        token = f"qwen-index-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), 10)
        except Exception as exc:  # no progress UI then, but the index still builds
            log.info("progress not available: %s", exc)
            token = None
    if token:
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title="Qwen: indexing", message="scanning the workspace", percentage=0,
            cancellable=False))
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < _REPORT_EVERY and done < total:
            return
        last = now
        pct = int(100 * done / total) if total else 100
        ls.set_status("indexing", f"{pct}%")
        if token:
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=f"{done}/{total} files", percentage=pct))

    ls.set_status("indexing", "0%")
    try:
        await context.build(report)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("indexing failed; completions go on with file-level context")
    finally:
        if token:
            stats = context.stats.as_dict() if context.stats else {}
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(
                message=f"{stats.get('files', 0)} files indexed"))
        # An endpoint failure reported meanwhile still stands once indexing is over.
        error = ls.health.last_error
        ls.set_status("error" if error else "idle", error.message if error else "index ready")
        ls.freeze_long_lived_objects()


async def watch_files(ls: QwenLanguageServer) -> None:
    """Ask the client to tell us about file changes on disk; a client that cannot (Neovim
    on Linux registers no watchers) gets the disk looked at every few seconds instead."""
    caps = ls.client_capabilities.workspace
    watched = caps and caps.did_change_watched_files
    if watched and watched.dynamic_registration:
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(
                    id="qwen-watch", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[
                        types.FileSystemWatcher(glob_pattern="**/*")]))]))
            return
        except Exception as exc:
            log.warning("could not register a file watcher: %s", exc)
    await poll_disk(ls)


async def poll_disk(ls: QwenLanguageServer) -> None:
    """Follow changes on disk by looking: a walk of the workspace (stat only, off the
    event loop) every few seconds, spaced so that it takes at most 2% of a core."""
    context = ls.context
    if context is None:
        return
    context.follow_disk()
    interval = POLL_SECONDS
    while ls.context is context and not context.closed:
        await asyncio.sleep(interval)
        started = time.monotonic()
        try:
            found = await context.poll_disk()
        except Exception:
            log.exception("looking for changed files failed")
            return
        if found:
            log.info("%d files changed on disk", found)
        interval = max(POLL_SECONDS, (time.monotonic() - started) * 50)


def start(ls: QwenLanguageServer) -> None:
    """Create the index of the workspace folders and build it in the background."""
    ls.start_context(workspace_roots(ls))
    ls.spawn(build_index(ls))
    ls.spawn(watch_files(ls))


def register(server: QwenLanguageServer) -> None:
    """Register the file-watching handler."""

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: QwenLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        if ls.context is None:
            return
        changes = [(path, _KINDS.get(c.type, "changed")) for c in params.changes
                   if (path := to_fs_path(c.uri))]
        ls.context.files_changed(changes)
