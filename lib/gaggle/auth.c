/* Proving the Gaggle key: each side sends a fresh random nonce, and each
 * proves it holds the pre-shared key with HMAC-SHA256 over both nonces and
 * its role, compared in constant time.  Nothing about the test is sent
 * before both proofs are checked. */
#include "gaggle/gaggle.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(sizeof ((gaggle_key *)0)->bytes == GOOSE_KEY_MAX, "a key fits");

/* Read again when the run starts: the file may have changed since it was
 * set (and was checked then). */
static int key_from_file(goose_attack *a, const char *path, gaggle_key *k)
{
    char err[512];
    struct stat st;
    if (goose__key_file_read(path, k->bytes, &k->len, err, sizeof err) != GOOSE_OK)
        return goose__fail(a, GOOSE_ECONFIG, "%s", err);
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        goose__log(a, GOOSE_LOG_WARN, "--gaggle-key-file %s can be read by other users: "
                   "chmod 600 it", path);
    return GOOSE_OK;
}

int goose__gaggle_load_key(goose_attack *a, gaggle_key *k)
{
    const goose_options *o = &a->opt;
    memset(k, 0, sizeof *k);
    if (o->gaggle_key && o->gaggle_key_file)
        return goose__fail(a, GOOSE_ECONFIG, "give --gaggle-key-file or GOOSE_GAGGLE_KEY, not both");
    if (o->gaggle_key_file) {
        int rc = key_from_file(a, o->gaggle_key_file, k);
        if (rc != GOOSE_OK)
            return rc;
    } else if (o->gaggle_key) {
        k->len = strlen(o->gaggle_key);
        if (k->len > sizeof k->bytes)
            return goose__fail(a, GOOSE_ECONFIG, "the gaggle key is longer than %zu bytes",
                               sizeof k->bytes);
        memcpy(k->bytes, o->gaggle_key, k->len);
    } else {
        return GOOSE_OK;
    }
    if (k->len < GOOSE_KEY_MIN)
        return goose__fail(a, GOOSE_ECONFIG, "the gaggle key must be at least %d bytes "
                           "(try: openssl rand -hex 32 > gaggle.key)", GOOSE_KEY_MIN);
    k->set = 1;
    return GOOSE_OK;
}

int goose__gaggle_nonce(unsigned char out[GAGGLE_NONCE])
{
    return RAND_bytes(out, GAGGLE_NONCE) == 1 ? 0 : -1;
}

void goose__gaggle_proof(const gaggle_key *k, const char *role,
                         const unsigned char *first, const unsigned char *second,
                         unsigned char out[GAGGLE_PROOF])
{
    unsigned char msg[64 + 2 * GAGGLE_NONCE];
    size_t n = (size_t)snprintf((char *)msg, 64, "libgoose gaggle v%d %s", GAGGLE_PROTOCOL_VERSION,
                                role);
    memcpy(msg + n, first, GAGGLE_NONCE);
    memcpy(msg + n + GAGGLE_NONCE, second, GAGGLE_NONCE);
    unsigned int len = 0;
    HMAC(EVP_sha256(), k->bytes, (int)k->len, msg, n + 2 * GAGGLE_NONCE, out, &len);
}

int goose__gaggle_proof_ok(const gaggle_key *k, const char *role,
                           const unsigned char *first, const unsigned char *second,
                           const msgpack_object *proof)
{
    unsigned char want[GAGGLE_PROOF];
    if (!proof || proof->type != MSGPACK_OBJECT_BIN || proof->via.bin.size != GAGGLE_PROOF)
        return 0;
    goose__gaggle_proof(k, role, first, second, want);
    return CRYPTO_memcmp(want, proof->via.bin.ptr, GAGGLE_PROOF) == 0;
}

int goose__get_nonce(const msgpack_object *map, const char *key,
                     unsigned char out[GAGGLE_NONCE])
{
    const msgpack_object *o = goose__map_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != GAGGLE_NONCE)
        return -1;
    memcpy(out, o->via.bin.ptr, GAGGLE_NONCE);
    return 0;
}

void goose__out_bin(gaggle_out *o, const char *key, const void *p, size_t n)
{
    goose__out_key(o, key);
    msgpack_pack_bin(&o->pk, n);
    msgpack_pack_bin_body(&o->pk, p, n);
}
