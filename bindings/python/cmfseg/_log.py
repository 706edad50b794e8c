"""Forwards the library's notes (cmf_set_log_callback) to the `cmfseg` logger at INFO:
what it inferred, assumed or fell back to, e.g. a model without metadata or a case
segmented with one modality pair. Configure it like any logger
(`logging.basicConfig(level=logging.INFO)` shows them)."""
import ctypes
import logging

from ._lib import lib

logger = logging.getLogger("cmfseg")

_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _forward(level: int, message: bytes, user_data: int) -> None:
    logger.info(message.decode("utf-8", "replace"))


# kept at module level: the library holds the pointer for the life of the process
_receiver = _CALLBACK(_forward)
lib.cmf_set_log_callback.restype = None
lib.cmf_set_log_callback.argtypes = [_CALLBACK, ctypes.c_void_p]
lib.cmf_set_log_callback(_receiver, None)
