# Installs the built cmfseg into a fresh prefix, then builds and runs consumer/ against it
# (find_package, the installed library and its installed data).
#   cmake -DBUILD_DIR=... -DCONSUMER_DIR=... -DWORK=... -P install_consumer.cmake
file(REMOVE_RECURSE "${WORK}")
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}")
    endif()
endfunction()
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK}/prefix")
if(NOT EXISTS "${WORK}/prefix/share/cmfseg/models/cmfseg-default.safetensors")
    message(FATAL_ERROR "the install lacks the default model")
endif()
run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK}/build" "-DCMAKE_PREFIX_PATH=${WORK}/prefix")
run("${CMAKE_COMMAND}" --build "${WORK}/build")
run("${WORK}/build/consumer")
