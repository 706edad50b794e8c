// Why a shim: a system-library module needs a header to point at; zlib's lives in /usr/include.
#include <zlib.h>
