"""Errors raised by the binding: every non-zero cmf_status becomes a CmfsegError, and so do
in-memory images that are not on one grid (status 4, as the library reports it for files)."""
from ._lib import lib

STATUS_NAMES = {
    1: "invalid argument", 2: "I/O error", 3: "format error", 4: "shape error",
    5: "out of memory", 6: "aborted", 7: "unsupported", 8: "internal error",
}
SHAPE = 4


class CmfsegError(Exception):
    """A failed libcmfseg call: `status` is the cmf_status code, `message` the library's text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__("%s: %s" % (STATUS_NAMES.get(status, "status %d" % status), message))
        self.status = status
        self.message = message


def check(status: int) -> None:
    """Raises CmfsegError for a non-zero status, with the calling thread's last error."""
    if status != 0:
        raise CmfsegError(status, lib.cmf_last_error_message().decode("utf-8", "replace"))
