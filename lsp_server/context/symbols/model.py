"""What the index keeps about one source file: definitions, imports, references."""

from __future__ import annotations

from dataclasses import dataclass, field

CONTAINER_KINDS = frozenset({
    "class", "interface", "struct", "enum", "trait", "union", "namespace", "impl", "module",
})


@dataclass(slots=True)
class Definition:
    """One named definition: where it is, what it is, and the head text a prompt shows."""

    name: str
    kind: str
    container: str
    start_line: int
    end_line: int
    signature: str
    doc: str = ""
    type_name: str = ""  # declared type of a field/variable, or return type of a function
    # Base types; for an object literal (JavaScript), its properties that name another
    # definition, as `key` or `key=name`.
    bases: tuple[str, ...] = ()

    def to_tuple(self) -> tuple:
        """Return a plain tuple for the persistent index."""
        return (self.name, self.kind, self.container, self.start_line, self.end_line,
                self.signature, self.doc, self.type_name, self.bases)


@dataclass(slots=True)
class Import:
    """One import: the module, the names it binds, and the file it resolves to in the repo."""

    module: str
    names: tuple[tuple[str, str], ...] = ()  # (name in the module, local alias)
    alias: str = ""  # local name bound to the module itself
    line: int = 0
    wildcard: bool = False

    def to_tuple(self) -> tuple:
        """Return a plain tuple for the persistent index."""
        return (self.module, self.names, self.alias, self.line, self.wildcard)


@dataclass(slots=True)
class FileSymbols:
    """Everything the index keeps about one file."""

    language: str
    definitions: list[Definition] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    references: tuple[str, ...] = ()
    package: str = ""
    line_count: int = 0

    def to_tuple(self) -> tuple:
        """Return a plain, marshal-friendly tuple for the persistent index."""
        return (self.language, tuple(d.to_tuple() for d in self.definitions),
                tuple(i.to_tuple() for i in self.imports), self.references, self.package,
                self.line_count)

    @classmethod
    def from_tuple(cls, data: tuple) -> FileSymbols:
        """Rebuild from `to_tuple` output."""
        lang, defs, imports, refs, package, line_count = data
        return cls(lang, [Definition(*d) for d in defs], [Import(*i) for i in imports],
                   refs, package, line_count)
