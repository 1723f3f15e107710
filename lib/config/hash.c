/* The load-test hash: SHA-256 over what shapes the test (scenarios, their
 * weights, wait times and hosts, task sets, transactions with their
 * weights, sequences and on_start/on_stop, the test data's names and
 * modes, whether test_start and test_stop are set), never over addresses,
 * paths or file contents, so two builds of the same source agree and any
 * change to the test disagrees. */
#include "config/attack.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static void feed(EVP_MD_CTX *md, const char *tag, const char *s)
{
    EVP_DigestUpdate(md, tag, 1);
    EVP_DigestUpdate(md, s ? s : "", s ? strlen(s) + 1 : 1);
}

static void feed_num(EVP_MD_CTX *md, const char *tag, unsigned long long n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", n);
    feed(md, tag, buf);
}

static void feed_tx(EVP_MD_CTX *md, const goose_transaction *t)
{
    feed(md, "X", t->name);
    feed_num(md, "w", t->weight);
    feed_num(md, "q", t->sequence);
    feed_num(md, "b", (unsigned)t->on_start);
    feed_num(md, "e", (unsigned)t->on_stop);
}

static void feed_scenario(EVP_MD_CTX *md, const goose_scenario *s)
{
    feed(md, "S", s->name);
    feed_num(md, "w", s->weight);
    feed_num(md, "m", s->wait_min_ms);
    feed_num(md, "M", s->wait_max_ms);
    feed(md, "h", s->host);
    for (size_t i = 0; i < s->nitems; i++) {
        const goose_scenario_item *it = &s->items[i];
        if (it->tx) {
            feed_tx(md, it->tx);
            continue;
        }
        feed(md, "T", it->ts->name);
        for (size_t j = 0; j < it->ts->ntxs; j++)
            feed_tx(md, it->ts->txs[j]);
        feed(md, "t", it->ts->name);
    }
}

int goose__test_hash(const goose_attack *a, char out[65])
{
    unsigned char digest[32];
    unsigned int len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return -1;
    }
    feed(md, "V", "libgoose load test 1");
    for (size_t i = 0; i < a->nscenarios; i++)
        feed_scenario(md, a->scenarios[i]);
    /* a Worker has no copy of the files: their paths and rows are the
       Manager's alone */
    for (size_t i = 0; i < a->ndatasets; i++) {
        feed(md, "D", a->datasets[i].name);
        feed_num(md, "d", (unsigned)a->datasets[i].mode);
    }
    /* whether test_start and test_stop are set (they add scenarios to the
       plan); fed only when set, so a test without them keeps its hash */
    if (a->test_start)
        feed(md, "O", "test_start");
    if (a->test_stop)
        feed(md, "O", "test_stop");
    int rc = EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32 ? 0 : -1;
    EVP_MD_CTX_free(md);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    return rc;
}
