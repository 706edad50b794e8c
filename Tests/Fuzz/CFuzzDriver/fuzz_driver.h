/* libFuzzer's entry for programs with their own main (compiler-rt FuzzerInterface.h), so
 * one binary can hold every target and pick one from its command line. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));
