// Why a shim: one module for both compression libraries the NIfTI reader uses. libdeflate
// inflates a whole in-memory .nii.gz several times faster than zlib's streaming inflate;
// zlib streams the header bytes so a file is validated before its data are inflated.
#include <libdeflate.h>
#include <zlib.h>
