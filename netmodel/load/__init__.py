"""Stage 1: files → documents with source spans."""

from netmodel.load.document import Document
from netmodel.load.files import parse_text, read_documents

__all__ = ["Document", "parse_text", "read_documents"]
