"""Session stores, one module per Node store package; each a format plus sync/async shells."""

from .base import DEFAULT_TIMEOUT, AsyncStore, JSONSerializer, Serializer, Store

__all__ = ["DEFAULT_TIMEOUT", "AsyncStore", "JSONSerializer", "Serializer", "Store"]

from .file import AsyncFileStore, FileStore

__all__ += ["AsyncFileStore", "FileStore"]
