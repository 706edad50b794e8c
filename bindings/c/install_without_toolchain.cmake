# Proves that an installed cmfseg needs no Swift toolchain: installs the built cmfseg into a
# fresh prefix, then
#   1. checks every ELF file of the install with readelf -d (RUNPATH/RPATH/NEEDED) and ldd:
#      nothing may name a path inside the toolchain, and every needed library must resolve;
#   2. builds the C example (consumer/main.c) against the install with pkg-config, and
#      again as its own CMake project with find_package(cmfseg);
#   3. runs it, `cmfseg --version` and `cmfseg evaluate` on the bundled sample, in a mount
#      namespace where an empty folder is mounted over the toolchain (unshare; as root, or
#      as a user where unprivileged user namespaces are allowed). When no namespace can be
#      made, the test fails and says so: it never passes without the run that hides the
#      toolchain.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DTOOLCHAIN=... -DVERSION=... -DWORK=... -P install_without_toolchain.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/empty")
set(prefix "${WORK}/prefix")
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}${err}")
    endif()
    set(out "${out}" PARENT_SCOPE)
endfunction()

get_filename_component(TOOLCHAIN "${TOOLCHAIN}" REALPATH)
if(TOOLCHAIN STREQUAL "/" OR TOOLCHAIN STREQUAL "/usr")
    message(FATAL_ERROR "the Swift toolchain is installed in ${TOOLCHAIN}, among the system's own "
                        "files: it cannot be hidden, so this test cannot prove anything here")
endif()
message(STATUS "toolchain to hide: ${TOOLCHAIN}")

run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")

# 1. What the installed binaries refer to.
file(GLOB_RECURSE files LIST_DIRECTORIES false "${prefix}/*")
set(elf_count 0)
foreach(f IN LISTS files)
    file(READ "${f}" magic LIMIT 4 HEX)
    if(NOT magic STREQUAL "7f454c46")
        continue()
    endif()
    math(EXPR elf_count "${elf_count} + 1")
    run(readelf -d "${f}")
    string(FIND "${out}" "${TOOLCHAIN}" hit)
    if(NOT hit EQUAL -1)
        message(FATAL_ERROR "${f} refers to the toolchain (readelf -d):\n${out}")
    endif()
    set(CMAKE_MATCH_2 "")
    string(REGEX MATCH "R(UN)?PATH\\)[^\n]*\\[([^]\n]*)\\]" runpath "${out}")
    set(runpath "${CMAKE_MATCH_2}")
    run(ldd "${f}")
    string(FIND "${out}" "${TOOLCHAIN}" hit)
    string(FIND "${out}" "not found" missing)
    if(NOT hit EQUAL -1 OR NOT missing EQUAL -1)
        message(FATAL_ERROR "${f} loads from the toolchain or misses a library (ldd):\n${out}")
    endif()
    message(STATUS "${f}: RUNPATH [${runpath}], no library from ${TOOLCHAIN}")
endforeach()
if(elf_count LESS 2)
    message(FATAL_ERROR "expected lib/libcmfseg.so and bin/cmfseg in ${prefix}, found ${elf_count} ELF files")
endif()

# 2. The C example, built as a program outside the tree builds it with pkg-config.
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
run(pkg-config --cflags --libs cmfseg)
separate_arguments(flags UNIX_COMMAND "${out}")
run(cc -o "${WORK}/consumer" "${SOURCE_DIR}/bindings/c/consumer/main.c" ${flags})
# ... and with find_package(cmfseg), as a CMake user's project outside the tree.
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/bindings/c/consumer" -B "${WORK}/consumer-cmake"
    "-DCMAKE_PREFIX_PATH=${prefix}")
run("${CMAKE_COMMAND}" --build "${WORK}/consumer-cmake")

# 3. The programs, with the toolchain's folder replaced by an empty one.
set(hidden unshare --mount --map-root-user sh -c "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\""
    sh "${WORK}/empty" "${TOOLCHAIN}")
execute_process(COMMAND ${hidden} ls -A "${TOOLCHAIN}" RESULT_VARIABLE rc OUTPUT_VARIABLE listing ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot hide ${TOOLCHAIN} in a mount namespace (unshare needs root, or "
                        "unprivileged user namespaces): ${err}")
endif()
if(NOT listing STREQUAL "")
    message(FATAL_ERROR "${TOOLCHAIN} is still visible in the mount namespace:\n${listing}")
endif()
message(STATUS "running with ${TOOLCHAIN} hidden (an empty folder mounted over it)")
run(${hidden} "${WORK}/consumer")
message(STATUS "consumer (pkg-config): ${out}")
run(${hidden} "${WORK}/consumer-cmake/consumer")
message(STATUS "consumer (find_package): ${out}")
run(${hidden} "${prefix}/bin/cmfseg" --version)
string(STRIP "${out}" version)
if(NOT version STREQUAL VERSION)
    message(FATAL_ERROR "cmfseg --version printed \"${version}\", expected ${VERSION}")
endif()
set(samples "${prefix}/share/cmfseg/samples")
run(${hidden} "${prefix}/bin/cmfseg" evaluate --ref "${samples}/brats2018_cmff_ref.nii.gz"
    --pred "${samples}/brats2018_cmff_pred.nii.gz" --json)
if(NOT out MATCHES "\"dice\"")
    message(FATAL_ERROR "cmfseg evaluate printed no Dice:\n${out}")
endif()
message(STATUS "cmfseg --version and evaluate ran with the toolchain hidden")
