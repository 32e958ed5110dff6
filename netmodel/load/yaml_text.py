"""YAML text to :class:`Document` objects: the one entry point, choosing between the two readers.

rapidyaml (``yaml_fast``) reads a file when it is installed and the file holds nothing it could type or refuse
differently from PyYAML; otherwise, and for the documents it leaves to PyYAML, the event reader
(``yaml_reader``) does. Both readers give every value its location. The choice lives here, above both, so that
neither reader imports the other's caller.
"""

from __future__ import annotations

from netmodel.load import yaml_fast
from netmodel.load.document import Document
from netmodel.load.yaml_reader import parse_yaml_events


def parse_yaml(text: str, file: str) -> list[Document]:
    """Parse every document in ``text``; raise :class:`LoadError` with a located problem on bad input."""
    if yaml_fast.enabled():
        documents = yaml_fast.parse_fast(text, file)
        if documents is not None:
            return documents
    return parse_yaml_events(text, file)
