"""An import-linter contract type for what `forbidden` cannot express: a third-party submodule.

import-linter sees an external package as one node (`django`), so its `forbidden` contract can
forbid Django but not `django.db` alone. This contract reads the import statements themselves
(grimp keeps each import's line) and refuses any that names a forbidden module or one of its
submodules, e.g. `from django.db import models`, `import django.db.transaction`,
`from django import db`.
"""

from __future__ import annotations

import re
from typing import Any

from importlinter import Contract, ContractCheck, fields, output

_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?\s*([\w\s,]*)")
_IMPORT = re.compile(r"^\s*import\s+([\w.\s,]+)")


def _named_modules(line: str) -> set[str]:
    """Every module an import line can bring in, e.g. `from a import b` → {a, a.b}."""
    if match := _FROM.match(line):
        base, names = match.groups()
        found = {base}
        found |= {f"{base}.{name.strip()}" for name in names.split(",") if name.strip()}
        return found
    if match := _IMPORT.match(line):
        return {part.split(" as ")[0].strip() for part in match.group(1).split(",")}
    return set()


def _is_within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


class ForbiddenSubmodulesContract(Contract):
    """Configuration: `source_modules` (ours, with their descendants) and `forbidden_modules`
    (any importable names, e.g. `django.db`). Direct imports only: an indirect path goes
    through one of our own modules, which the layers contract already governs."""

    type_name = "forbidden_submodules"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    forbidden_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        forbidden = [str(name) for name in self.forbidden_modules]  # type: ignore[attr-defined]
        violations = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            importers = {source.name} | set(graph.find_descendants(source.name))
            for importer in sorted(importers):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    for detail in graph.get_import_details(importer=importer, imported=imported):
                        names = _named_modules(detail["line_contents"])
                        if any(_is_within(n, f) for n in names for f in forbidden):
                            violations.append(
                                (importer, detail["line_number"], detail["line_contents"])
                            )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, line_number, contents in check.metadata["violations"]:
            output.print_error(f"{importer} (l.{line_number}): {contents.strip()}", bold=False)
            output.new_line()
