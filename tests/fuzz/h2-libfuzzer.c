/* make fuzz-http: libFuzzer on the own HTTP/2 client's session, the
 * server's bytes arbitrary.
 *   clang -fsanitize=fuzzer,address,undefined ... tests/fuzz/h2-libfuzzer.c */
#include "fuzz/h2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return goose_fuzz_h2(data, size);
}
