"""The ownership of one library handle, shared by Volume and Model."""
import ctypes
from typing import Any, TypeVar

_H = TypeVar("_H", bound="Handle")


class Handle:
    """Owns a handle the library allocated; frees it once (close, `with`, or garbage
    collection). Subclasses name their free function in `_free`."""

    _free: Any = None

    def __init__(self, handle):
        self._handle = ctypes.c_void_p(handle)

    @property
    def handle(self):
        return self._handle

    def close(self) -> None:
        if self._handle:
            type(self)._free(self._handle)
            self._handle = ctypes.c_void_p()

    def __del__(self):
        self.close()

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
