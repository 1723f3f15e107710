/* make fuzz-http: libFuzzer on the own HTTP/1.1 client's response parser.
 *   clang -fsanitize=fuzzer,address,undefined ... tests/fuzz/http-libfuzzer.c */
#include "fuzz/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return goose_fuzz_http(data, size);
}
