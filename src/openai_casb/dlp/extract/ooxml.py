"""Office Open XML: DOCX, XLSX and PPTX, read as the ZIP of XML parts they are.

Parts are found the way Office finds them: the main part through the package relationship
(`_rels/.rels`, `officeDocument`), then headers, footers, notes, comments, slides and sheets
through that part's own relationships, never by their conventional names. Every other XML part
under the format's folder (`word/`, `ppt/`, `xl/`) is read afterwards, so a decoy part cannot hide
the real one; no part is read twice. Files embedded in the package (`*/embeddings/`) go through
the normal dispatcher one nesting level deeper.

Every entry that is read, whatever its name, is streamed under the archive limits (size, ratio,
total, entry count). Before any XML parser sees the package, every XML part is read once and
refused if it declares a DOCTYPE or ENTITY (billion laughs, external entities): OOXML never needs
one; a part read as XML under another name (`xl/strings.bin`) is checked the same way. Parsing is
defusedxml's streaming `iterparse`; each element is dropped once handled. Elements are matched by
local name, so Strict OOXML namespaces read like Transitional ones.

Spreadsheets are read the same way, cell by cell as stored (no openpyxl): the cost follows the
cells the file holds, never the grid its dimension or a far cell spans.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import unquote

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from openai_casb.dlp.extract.archive import EntryExtractor, check_entry_count, entry_texts, open_zip, read_entry
from openai_casb.dlp.extract.base import Budget, LimitExceeded, NotScanned, TextChunks

_DECLARATIONS = (b"<!doctype", b"<!entity")
# Lower-cased bytes in UTF-8 and both UTF-16 byte orders, the encodings an XML part may use.
_FORBIDDEN = tuple(
    pattern
    for text in _DECLARATIONS
    for pattern in (text, text.decode().encode("utf-16-le"), text.decode().encode("utf-16-be"))
)
_ENTITY_REFUSAL = "refused: XML part declares a DOCTYPE or ENTITY (possible entity attack)"
_XML_SUFFIXES = (".xml", ".rels")

# (text elements, paragraph ends -> newline, cell ends and tabs -> tab), by local name.
_Tags = tuple[frozenset[str], frozenset[str], frozenset[str]]
_DOCX_TAGS: _Tags = (frozenset({"t", "delText"}), frozenset({"p", "br", "cr"}), frozenset({"tab", "tc"}))
_PPTX_TAGS: _Tags = (frozenset({"t", "text"}), frozenset({"p", "br", "cm"}), frozenset())
# XLSX parts other than sheets: comments, threaded comments, drawings, charts.
_XLSX_OTHER_TAGS: _Tags = (
    frozenset({"t", "text", "v"}),
    frozenset({"si", "p", "br", "comment", "threadedComment", "v"}),
    frozenset(),
)
_DOCX_RELATED = ("header", "footer", "footnotes", "endnotes", "comments")
_XLSX_SHEET_RELATED = frozenset({"comments", "threadedComment", "drawing"})
_HEADER_FOOTER = frozenset({"oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"})
# Header/footer codes: fonts, colours, sizes, fields (&P, &D...), sections (&L &C &R), "&&".
_HEADER_FOOTER_CODE = re.compile(r'&(?:"[^"]*"|K(?:[0-9A-Fa-f]{6}|\d\d[+-]\d{3})|\d{1,3}|[A-Za-z&])')


def declares_dtd(content: bytes) -> bool:
    lowered = content.lower()
    return any(pattern in lowered for pattern in _FORBIDDEN)


def _checked(content: bytes) -> bytes:
    if declares_dtd(content):
        raise NotScanned(_ENTITY_REFUSAL)
    return content


def _natural(name: str) -> list[Any]:
    """`slide10.xml` after `slide9.xml`."""
    return [int(piece) if piece.isdigit() else piece.lower() for piece in re.split(r"(\d+)", name)]


def _is_embedded(name: str) -> bool:
    return "/embeddings/" in "/" + name.lower() and not name.lower().endswith(".rels")


@dataclass(frozen=True, slots=True)
class _Relationship:
    rel_id: str
    kind: str  # the last segment of the relationship type: "officeDocument", "header", "slide"...
    target: str | None  # the part's name in the ZIP; None when external or absent


class _Package:
    """An open OOXML package: every XML part read and DTD-checked up front, other entries on demand."""

    def __init__(self, archive: zipfile.ZipFile, budget: Budget, what: str) -> None:
        self.archive = archive
        self.budget = budget
        self.what = what
        self.entries = {info.filename: info for info in check_entry_count(archive, budget)}
        self._by_lower: dict[str, str] = {}
        for name in self.entries:
            self._by_lower.setdefault(name.lower(), name)
        self._xml: dict[str, bytes] = {}
        for name in self.entries:
            if name.lower().endswith(_XML_SUFFIXES) and not _is_embedded(name):
                self._xml[name] = _checked(self.read(name))

    def read(self, name: str) -> bytes:
        """One entry's bytes, under the size, ratio and total limits whatever its name."""
        try:
            return read_entry(self.archive, self.entries[name], self.budget)
        except NotScanned as outcome:
            if outcome.reason == "encrypted" or not outcome.cacheable:
                raise
            raise NotScanned(f"malformed {self.what}: {outcome.reason}") from None

    def xml(self, name: str) -> bytes:
        content = self._xml.get(name)
        if content is None:  # a part the relationships name, stored under a name not ending in .xml
            content = self._xml[name] = _checked(self.read(name))
        return content

    def find(self, name: str) -> str | None:
        """The entry named `name`; part names are case-insensitive in OPC."""
        return self._by_lower.get(name.lower())

    def relationships(self, source: str) -> list[_Relationship]:
        """The relationships of part `source` ("" for the package itself)."""
        directory, base = posixpath.split(source)
        rels = self.find(posixpath.join(directory, "_rels", base + ".rels"))
        if rels is None:
            return []
        found = []
        for name, element in _elements(self.xml(rels), self.what):
            if name != "Relationship":
                continue
            kind = (element.get("Type") or "").rstrip("/").rpartition("/")[2]
            external = (element.get("TargetMode") or "").lower() == "external"
            target = None if external else self._resolve(directory, element.get("Target") or "")
            found.append(_Relationship(element.get("Id") or "", kind, target))
        return found

    def _resolve(self, directory: str, target: str) -> str | None:
        target = unquote(target.partition("#")[0]).replace("\\", "/")
        if not target:
            return None
        path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(directory, target))
        if path in (".", "..") or path.startswith("../"):
            return None
        return self.find(path)

    def main_part(self, conventional: str) -> str | None:
        for relationship in self.relationships(""):
            if relationship.kind == "officeDocument" and relationship.target:
                return relationship.target
        return self.find(conventional)

    def remaining(self, roots: Iterable[str], done: set[str]) -> list[str]:
        """XML parts under `roots` not read yet, in natural order."""
        prefixes = tuple(root.lower() for root in roots if root)
        return sorted(
            (
                name
                for name in self._xml
                if name not in done and name.lower().endswith(".xml") and name.lower().startswith(prefixes)
            ),
            key=_natural,
        )

    def embedded(self, depth: int, extract_entry: EntryExtractor) -> TextChunks:
        """Files embedded in the package, each one nesting level deeper, through the dispatcher. Any
        embedded file, not only an archive, counts as a level; an empty one is noted like any other."""
        names = sorted((n for n in self.entries if _is_embedded(n)), key=_natural)
        if names and depth + 1 > self.budget.limits.max_nesting:
            raise LimitExceeded(f"archives nested deeper than the limit ({self.budget.limits.max_nesting} levels)")
        yield from entry_texts(
            ((name, partial(self.read, name)) for name in names),
            depth,
            self.budget,
            extract_entry,
            "embedded",
            empty_is_read=False,
        )


def _elements(content: bytes, what: str) -> Iterator[tuple[str, Any]]:
    """(local name, element) at each element's end, in document order; the element is dropped from
    its parent once the caller moves on, so memory stays flat on large parts."""
    local_names: dict[str, str] = {}
    open_elements: list[Any] = []
    try:
        for event, element in SafeElementTree.iterparse(io.BytesIO(content), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                open_elements.append(element)
                continue
            open_elements.pop()
            tag = element.tag
            name = local_names.get(tag)
            if name is None:
                name = local_names[tag] = tag.rpartition("}")[2] if isinstance(tag, str) else ""
            yield name, element
            if open_elements:
                open_elements[-1].remove(element)
    except defusedxml.DefusedXmlException:
        raise NotScanned(_ENTITY_REFUSAL) from None
    except SafeElementTree.ParseError:
        raise NotScanned(f"malformed {what}: an XML part does not parse") from None


def _part_text(content: bytes, what: str, tags: _Tags) -> Iterator[str]:
    """Text of one XML part: text nodes in order, a newline at each paragraph end."""
    text_tags, break_tags, tab_tags = tags
    for name, element in _elements(content, what):
        if name in text_tags and element.text:
            yield element.text
        if name in break_tags:
            yield "\n"
        elif name in tab_tags:
            yield "\t"


def _join(pieces: Iterator[str], size: int) -> TextChunks:
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size and piece == "\n":
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def _unique(names: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(name for name in names if name))


def _roots(folder: str, main: str | None) -> list[str]:
    """The format's folder, and the main part's own folder when it lives elsewhere."""
    roots = [folder]
    if main and posixpath.dirname(main):
        roots.append(posixpath.dirname(main) + "/")
    return roots


def _texts(package: _Package, names: list[str], done: set[str], tags: _Tags) -> Iterator[str]:
    for name in names:
        done.add(name)
        yield from _part_text(package.xml(name), package.what, tags)
        yield "\n"


def _extract(
    data: bytes,
    budget: Budget,
    depth: int,
    extract_entry: EntryExtractor | None,
    what: str,
    pieces: Callable[[_Package], Iterator[str]],
) -> TextChunks:
    if extract_entry is None:
        from openai_casb.dlp.extract.dispatch import extract_bytes  # imported here: dispatch imports this module

        extract_entry = extract_bytes
    with open_zip(data, what) as archive:
        package = _Package(archive, budget, what)
        yield from _join(pieces(package), budget.limits.chunk_chars)
        yield from package.embedded(depth, extract_entry)


def extract_docx(
    data: bytes, budget: Budget, depth: int = 0, extract_entry: EntryExtractor | None = None
) -> TextChunks:
    """Body, headers, footers, footnotes, endnotes and comments, tables included; then every other
    text part under `word/`; then embedded files."""

    def pieces(package: _Package) -> Iterator[str]:
        main = package.main_part("word/document.xml")
        names = [main] if main else []
        if main:
            related = package.relationships(main)
            for kind in _DOCX_RELATED:
                names += sorted((r.target for r in related if r.kind == kind and r.target), key=_natural)
        done: set[str] = set()
        names = _unique(names)
        yield from _texts(package, names, done, _DOCX_TAGS)
        yield from _texts(package, package.remaining(_roots("word/", main), done), done, _DOCX_TAGS)

    yield from _extract(data, budget, depth, extract_entry, "DOCX", pieces)


def extract_pptx(
    data: bytes, budget: Budget, depth: int = 0, extract_entry: EntryExtractor | None = None
) -> TextChunks:
    """Every slide in presentation order, then the speaker notes, then comments; then every other
    text part under `ppt/` (layouts, masters); then embedded files."""

    def pieces(package: _Package) -> Iterator[str]:
        main = package.main_part("ppt/presentation.xml")
        done: set[str] = set()
        slides: list[str | None] = []
        if main:
            done.add(main)
            related = package.relationships(main)
            by_id = {r.rel_id: r for r in related}
            for name, element in _elements(package.xml(main), package.what):
                if name == "sldId":
                    rel_id = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
                    listed = by_id.get(rel_id or "")
                    if listed is not None and listed.kind == "slide":
                        slides.append(listed.target)
            slides += [r.target for r in related if r.kind == "slide"]
        ordered = _unique(slides)
        notes: list[str | None] = []
        comments: list[str | None] = []
        for slide in ordered:
            for relationship in package.relationships(slide):
                if relationship.kind == "notesSlide":
                    notes.append(relationship.target)
                elif relationship.kind == "comments":
                    comments.append(relationship.target)
        yield from _texts(package, _unique(ordered + notes + comments), done, _PPTX_TAGS)
        yield from _texts(package, package.remaining(_roots("ppt/", main), done), done, _PPTX_TAGS)

    yield from _extract(data, budget, depth, extract_entry, "PPTX", pieces)


def extract_xlsx(
    data: bytes, budget: Budget, depth: int = 0, extract_entry: EntryExtractor | None = None
) -> TextChunks:
    """Every cell value of every sheet (hidden ones too), tab-separated, one row per line; each
    sheet's headers and footers, comments, threaded comments and drawings; then every other text
    part under `xl/`; then embedded files."""

    def pieces(package: _Package) -> Iterator[str]:
        what = package.what
        main = package.main_part("xl/workbook.xml")
        done: set[str] = set()
        sheets: list[tuple[str, str]] = []
        shared: str | None = None
        if main:
            done.add(main)
            related = package.relationships(main)
            by_id = {r.rel_id: r for r in related}
            shared = next((r.target for r in related if r.kind == "sharedStrings" and r.target), None)
            for name, element in _elements(package.xml(main), what):
                if name == "sheet":
                    rel_id = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
                    listed = by_id.get(rel_id or "")
                    if listed is not None and listed.target:
                        sheets.append((element.get("name") or posixpath.basename(listed.target), listed.target))
            sheets += [(posixpath.basename(r.target), r.target) for r in related if r.kind == "worksheet" and r.target]
        shared = shared or package.find("xl/sharedStrings.xml")
        strings: list[str] = []
        if shared:
            done.add(shared)
            strings = _shared_strings(package.xml(shared), what)
        extras: list[str | None] = []
        for title, part in sheets:
            if part in done:
                continue
            done.add(part)
            yield f"[sheet {title}]\n"
            yield from _sheet_text(package.xml(part), strings, what)
            extras += [r.target for r in package.relationships(part) if r.kind in _XLSX_SHEET_RELATED]
        yield from _texts(package, [n for n in _unique(extras) if n not in done], done, _XLSX_OTHER_TAGS)
        for name in package.remaining(_roots("xl/", main), done):
            done.add(name)
            if "/worksheets/" in "/" + name.lower():
                yield f"[sheet {posixpath.basename(name)}]\n"
                yield from _sheet_text(package.xml(name), strings, what)
            else:
                yield from _texts(package, [name], done, _XLSX_OTHER_TAGS)

    yield from _extract(data, budget, depth, extract_entry, "XLSX", pieces)


def _shared_strings(content: bytes, what: str) -> list[str]:
    """The shared string table; a rich string's runs joined into one string."""
    strings: list[str] = []
    current: list[str] = []
    for name, element in _elements(content, what):
        if name == "t":
            current.append(element.text or "")
        elif name == "si":
            strings.append("".join(current))
            current = []
    return strings


def _cell_text(kind: str, value: str | None, inline: list[str], strings: list[str]) -> str:
    if kind == "inlineStr":
        return "".join(inline)
    if value is None:
        return ""
    if kind == "s":
        try:
            index = int(value)
        except ValueError:
            return ""
        return strings[index] if 0 <= index < len(strings) else ""
    if kind == "b":
        return "TRUE" if value.strip() == "1" else "FALSE"
    return value  # numbers, errors, cached formula results, ISO dates: as stored


def _sheet_text(content: bytes, strings: list[str], what: str) -> Iterator[str]:
    """The cells a sheet stores, row by row, then its header and footer text."""
    cells: list[str] = []
    value: str | None = None
    inline: list[str] = []
    for name, element in _elements(content, what):
        if name == "v":
            value = element.text or ""
        elif name == "t":
            inline.append(element.text or "")
        elif name == "c":
            text = _cell_text(element.get("t") or "n", value, inline, strings)
            if text:
                cells.append(text)
            value, inline = None, []
        elif name == "row":
            if cells:
                yield "\t".join(cells)
                yield "\n"
            cells = []
        elif name in _HEADER_FOOTER and element.text:
            yield _HEADER_FOOTER_CODE.sub(_header_footer_code, element.text)
            yield "\n"
    if cells:
        yield "\t".join(cells)
        yield "\n"


def _header_footer_code(match: re.Match[str]) -> str:
    code = match.group()
    if code in ("&L", "&C", "&R"):
        return "\t"
    return "&" if code == "&&" else ""
