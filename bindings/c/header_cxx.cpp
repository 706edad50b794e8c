// Compiles the public header as C++ and calls through it: proves the header is C++-clean.
#include <cmfseg.h>
#include <cstdio>
#include <cstring>

int main() {
    if (cmf_abi_version() != CMF_ABI_VERSION) {
        std::fprintf(stderr, "ABI mismatch: library %u, header %u\n", cmf_abi_version(), CMF_ABI_VERSION);
        return 1;
    }
    std::printf("cmfseg %s from C++\n", cmf_version());
    return std::strlen(cmf_version()) > 0 ? 0 : 1;
}
