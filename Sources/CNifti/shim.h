// Why a shim: nifticlib installs into /usr/include/nifti and its NIfTI-1 and NIfTI-2
// headers cannot be included together; the NIfTI-2 API handles both file versions.
#include <nifti/nifti2_io.h>
