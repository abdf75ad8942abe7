"""C and C++: `#include "x.h"` and `#include <x.h>`."""

from __future__ import annotations

import os
import posixpath

from lsp_server.context.index.resolve.base import LanguageResolver
from lsp_server.context.symbols import FileSymbols, Import

# Headers of the C standard library and POSIX: `<string.h>` is never the repo's string.h.
_SYSTEM_HEADERS = frozenset(
    """assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
    math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbit.h stdbool.h stdckdint.h
    stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h
    wchar.h wctype.h aio.h cpio.h dirent.h dlfcn.h fcntl.h fnmatch.h glob.h grp.h iconv.h
    langinfo.h libgen.h monetary.h mqueue.h netdb.h nl_types.h poll.h pthread.h pwd.h regex.h
    sched.h search.h semaphore.h spawn.h strings.h syslog.h tar.h termios.h ulimit.h unistd.h
    utime.h utmpx.h wordexp.h alloca.h malloc.h getopt.h endian.h byteswap.h execinfo.h
    windows.h winsock2.h""".split()
)
_SYSTEM_HEADER_DIRS = frozenset({"sys", "arpa", "netinet", "net", "bits", "gnu", "mach"})


class CResolver(LanguageResolver):
    """`#include "x.h"` looks in the including file's directory first, then like `<x.h>` in
    the include path (-I dirs), which is approximated by any indexed file whose path ends with
    the name, the nearest first. Standard and system headers are not ours."""

    @staticmethod
    def module_keys(rel: str, symbols: FileSymbols) -> list[str]:
        # An include names a path with its extension, relative to some include dir.
        parts = rel.split("/")
        return ["c:" + "/".join(parts[i:]) for i in range(len(parts))]

    def resolve(self, path: str, imp: Import) -> list[str]:
        module = imp.module
        system = module.startswith("<")
        name = posixpath.normpath(module.strip("<>").strip().replace("\\", "/"))
        if name in ("", "."):
            return []
        if not system:
            local = os.path.normpath(os.path.join(os.path.dirname(path), name))
            if self.maps.entry(local) is not None:
                return [local]
        elif name in _SYSTEM_HEADERS or name.split("/", 1)[0] in _SYSTEM_HEADER_DIRS:
            return []
        parts = name.split("/")
        while parts and parts[0] in ("..", ""):
            parts = parts[1:]
        return self.maps.pick("c:" + "/".join(parts), path) if parts else []
