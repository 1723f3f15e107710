/* make fuzz: libFuzzer on the Gaggle's frame reader and message decoders.
 *   clang -fsanitize=fuzzer,address,undefined ... tests/fuzz/libfuzzer.c */
#include "fuzz/frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return goose_fuzz_frames(data, size);
}
