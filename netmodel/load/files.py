"""Find input files, read them as text, and split them into one :class:`Document` per object.

Inputs are files, folders (read recursively, ``.yaml``/``.yml``/``.json``, in sorted order so runs are
reproducible) or ``-`` for standard input. ``kind: List`` objects are unpacked into their items.
"""

from __future__ import annotations

import codecs
import gc
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path as FsPath

from netmodel.errors import LoadError, Problem, SourceSpan
from netmodel.load.document import Document
from netmodel.load.json_reader import parse_json
from netmodel.load.yaml_text import parse_yaml

SUFFIXES = (".yaml", ".yml", ".json")
# One input file may hold at most this much (5 times the manifests of Kubernetes' 150,000-Pod envelope, ~100 MB).
MAX_INPUT_BYTES = 512 << 20
STDIN = "-"


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small containers.

    Parsing and model building allocate millions of dicts, lists and frozen objects and free almost none; the
    collector would rescan them again and again (it triples JSON parsing time at 150,000 Pods) without finding
    garbage. Reference counting still frees everything that is dropped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def discover(paths: Sequence[str]) -> list[str]:
    """Expand folders into the files they hold; keep ``-`` as is. Every missing path is reported."""
    found: list[str] = []
    problems: list[Problem] = []
    for raw in paths:
        if raw == STDIN:
            found.append(STDIN)
            continue
        path = FsPath(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not files:
                problems.append(Problem(f"folder {raw!r} holds no .yaml, .yml or .json file",
                                        hint="point netmodel at the folder with the manifests"))
            found.extend(str(p) for p in files)
        elif path.is_file() or path.is_fifo():  # a named pipe: `netmodel check <(kubectl get ...)`
            found.append(str(path))
        elif (kind := _special_kind(path)) is not None:
            # A device may never end (/dev/zero) and a socket is no file: refuse them by what they are.
            problems.append(Problem(f"{raw!r} is {kind}, not a regular file",
                                    hint="save the input to a file, or pass it on standard input as `-`"))
        else:
            problems.append(Problem(f"no such file or folder: {raw!r}", hint="check the path"))
    if problems:
        raise LoadError(problems)
    return found


def _special_kind(path: FsPath) -> str | None:
    """What a path that exists but is neither a file nor a folder is (None: it does not exist)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    for test, kind in ((stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def decode(data: bytes, file: str) -> str:
    """UTF-8 (with or without BOM), or UTF-16/32 with a BOM as YAML allows; a located error otherwise."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        before = data[: err.start]
        line = before.count(b"\n") + 1
        column = err.start - (before.rfind(b"\n") + 1) + 1
        raise LoadError([Problem(f"not UTF-8 text: byte 0x{data[err.start]:02x} cannot be decoded",
                                 SourceSpan(file, line, column),
                                 "save the file as UTF-8")]) from None


def parse_text(text: str, file: str) -> list[Document]:
    """The parsing interface: text in, documents with spans out. JSON goes to the fast JSON reader."""
    looks_json = file.lower().endswith(".json") or (
        not file.lower().endswith((".yaml", ".yml")) and text.lstrip()[:1] in ("{", "[")
    )
    if looks_json:
        try:
            return parse_json(text, file)
        except LoadError:
            if file.lower().endswith(".json"):
                raise
            # Standard input that merely starts like JSON may still be YAML (a flow mapping); let YAML judge.
    return parse_yaml(text, file)


def read_documents(paths: Sequence[str]) -> list[Document]:
    """Read every input and return one document per Kubernetes object, ``kind: List`` unpacked.

    Problems in several files are reported together.
    """
    documents: list[Document] = []
    problems: list[Problem] = []
    with paused_gc():
        files = discover(paths)
        for file in files:
            _read_one(file, documents, problems)
    if problems:
        raise LoadError(problems)
    if not documents:
        # An empty file, a byte-order mark alone or only `---` holds no object: analyzing nothing and
        # passing would tell CI a layout is fine when it was never read.
        where = SourceSpan("<stdin>" if files[0] == STDIN else files[0], 1, 1) if len(files) == 1 else None
        raise LoadError([Problem("no objects in input", where,
                                 "give files that hold Kubernetes or netmodel objects (an empty file, a byte-order "
                                 "mark alone or only `---` holds none)")])
    return documents


def _read_one(file: str, documents: list[Document], problems: list[Problem]) -> None:
    name = "<stdin>" if file == STDIN else file
    try:
        if file == STDIN:
            raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with FsPath(file).open("rb") as stream:
                raw = stream.read(MAX_INPUT_BYTES + 1)
        if len(raw) > MAX_INPUT_BYTES:
            problems.append(Problem(f"{name} is larger than {MAX_INPUT_BYTES >> 20} MiB, netmodel's limit for one input",
                                    SourceSpan(name, 1, 1), "split the input into several files (the Kubernetes "
                                    "envelope of 150,000 Pods is about 100 MB of manifests)"))
            return
        text = decode(raw, name)
        del raw  # the bytes are not needed once decoded: at hundreds of MB they would double the peak
        documents.extend(unpack_lists(parse_text(text, name)))
    except LoadError as err:
        problems.extend(err.problems)
    except OSError as err:
        problems.append(Problem(f"cannot read {file!r}: {err.strerror}", hint="check the path and permissions"))
    except MemoryError:
        # Parsing holds every value of the file at once; what it allocated is freed as this unwinds.
        problems.append(Problem(f"not enough memory to read {name}", SourceSpan(name, 1, 1),
                                "give netmodel more memory, or split the input into several smaller runs"))


def unpack_lists(documents: Iterable[Document]) -> list[Document]:
    """Replace every list object (``kind: List`` or ``kind: <Kind>List``) by its items, recursively.

    The API server returns the items of a typed list (``PodList``, ``NetworkPolicyList``, ... from ``kubectl get
    --raw`` or a client library) without ``kind`` and ``apiVersion``: an item that lacks them takes ``<Kind>``
    (the list's kind without ``List``) and the list's ``apiVersion``. Items that carry their own keep them. A
    plain ``List`` holds items of any kind, so its items must name their own (kubectl writes them).

    >>> from netmodel.load import parse_text
    >>> docs = unpack_lists(parse_text('{"kind": "PodList", "apiVersion": "v1", "items": [{"metadata": {}}]}',
    ...                                "in.json"))
    >>> docs[0].data["kind"], docs[0].data["apiVersion"]
    ('Pod', 'v1')
    """
    out: list[Document] = []
    pending = list(documents)
    pending.reverse()
    while pending:
        doc = pending.pop()
        data = doc.data
        if isinstance(data, dict) and isinstance(data.get("kind"), str) and data["kind"].endswith("List") \
                and isinstance(data.get("items"), list):
            item_kind = data["kind"][:-len("List")]
            api = data.get("apiVersion")
            items = [doc.child(("items", i), _typed_item(item, item_kind, api))
                     for i, item in enumerate(data["items"])]
            pending.extend(reversed(items))
        else:
            out.append(doc)
    return out


def _typed_item(item: object, kind: str, api: object) -> object:
    """An item of a typed list with the list's kind and apiVersion filled in where it lacks them (a copy)."""
    if not kind or not isinstance(item, dict) or ("kind" in item and "apiVersion" in item):
        return item
    filled = dict(item)
    filled.setdefault("kind", kind)
    if filled["kind"] == kind and "apiVersion" not in item and isinstance(api, str):
        filled["apiVersion"] = api  # an item of another kind would not be of the list's group
    return filled
