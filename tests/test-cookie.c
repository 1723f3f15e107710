/* Unit tests for the cookie jar (lib/http/cookie.c), RFC 6265 section 5. */
#include "test.h"

#include <limits.h>

#include "http/cookie.h"

#define NOW 1700000000LL /* 2023-11-14 22:13:20 UTC */
#define T_1994 784111777LL  /* Sun, 06 Nov 1994 08:49:37 GMT */
#define T_2030 1893456000LL /* Tue, 01 Jan 2030 00:00:00 GMT */

static goose_buf out;

static void set_at(goose_cookie_jar *j, const char *host, const char *path, int secure,
                   const char *v, long long now)
{
    ASSERT_EQ(goose__cookies_store(j, host, path, secure, v, strlen(v), now), 0);
}

static void set(goose_cookie_jar *j, const char *v)
{
    set_at(j, "example.com", "/", 0, v, NOW);
}

/* How many name=value pairs a header holds ("; " cannot be in a value). */
static int pairs_in(const char *s, size_t len)
{
    int n = len > 0;
    for (const char *p = s; p && (p = strstr(p, "; ")); p += 2)
        n++;
    return n;
}

/* The Cookie header; the count returned must match what was written. */
static const char *get_at(goose_cookie_jar *j, const char *host, const char *path, int secure,
                          long long now)
{
    goose__buf_clear(&out);
    int n = goose__cookies_header(j, host, path, secure, now, &out);
    ASSERT_GE(n, 0);
    ASSERT_EQ(n, pairs_in(out.data, out.len));
    return out.len ? out.data : "";
}

static const char *get(goose_cookie_jar *j, const char *path)
{
    return get_at(j, "example.com", path, 0, NOW);
}

static void done(goose_cookie_jar *j)
{
    goose__cookies_free(j);
    goose__buf_free(&out);
}

TEST(simple_set_and_send)
{
    goose_cookie_jar j;
    goose__cookies_init(&j);
    ASSERT(goose__cookies_empty(&j));
    set(&j, "sid=abc123");
    ASSERT(!goose__cookies_empty(&j));
    ASSERT_STR_EQ(get(&j, "/"), "sid=abc123");
    ASSERT_STR_EQ(get(&j, "/any/where?x=1"), "sid=abc123");
    ASSERT_STR_EQ(get_at(&j, "example.org", "/", 0, NOW), "");
    done(&j);
}

TEST(empty_jar_writes_nothing)
{
    goose_cookie_jar j = {0};
    goose_buf b;
    goose__buf_init(&b);
    ASSERT_EQ(goose__cookies_header(&j, "example.com", "/", 1, NOW, &b), 0);
    ASSERT_NULL(b.data); /* not even the buffer was allocated */
    ASSERT_EQ(b.len, 0);
    goose__cookies_free(&j);
    ASSERT_NULL(j.cookies);
}

TEST(header_appends_to_out)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    set(&j, "b=2");
    goose_buf b;
    goose__buf_init(&b);
    goose__buf_adds(&b, "Cookie: ");
    ASSERT_EQ(goose__cookies_header(&j, "example.com", "/", 0, NOW, &b), 2);
    ASSERT_STR_EQ(b.data, "Cookie: a=1; b=2");
    goose__buf_free(&b);
    done(&j);
}

TEST(order_longer_path_then_creation)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; Path=/");
    set(&j, "b=2; Path=/x/y");
    set(&j, "c=3; Path=/x");
    set(&j, "d=4; Path=/x/y");
    set(&j, "e=5");
    set(&j, "f=6; Path=/x/y/z");
    ASSERT_STR_EQ(get(&j, "/x/y/z"), "f=6; b=2; d=4; c=3; a=1; e=5");
    ASSERT_STR_EQ(get(&j, "/x/y"), "b=2; d=4; c=3; a=1; e=5");
    ASSERT_STR_EQ(get(&j, "/"), "a=1; e=5");
    done(&j);
}

TEST(replace_keeps_creation_order)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    set(&j, "b=2");
    set(&j, "c=3");
    set(&j, "a=a-much-longer-value-than-before");
    ASSERT_EQ(j.n, 3);
    ASSERT_STR_EQ(get(&j, "/"), "a=a-much-longer-value-than-before; b=2; c=3");
    set(&j, "b=");
    ASSERT_STR_EQ(get(&j, "/"), "a=a-much-longer-value-than-before; b=; c=3");
    set(&j, "a=1; Secure"); /* the flags are replaced too */
    ASSERT_STR_EQ(get(&j, "/"), "b=; c=3");
    ASSERT_EQ(j.n, 3);
    done(&j);
}

TEST(identity_is_name_domain_path)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; Path=/");
    set(&j, "a=2; Path=/x");
    set(&j, "A=3");
    ASSERT_EQ(j.n, 3);
    ASSERT_STR_EQ(get(&j, "/x"), "a=2; a=1; A=3");
    ASSERT_STR_EQ(get(&j, "/"), "a=1; A=3");
    /* Host-only or not, the domain is the same: replaced, and now sent to
     * subdomains. */
    set(&j, "a=4; Domain=example.com");
    ASSERT_EQ(j.n, 3);
    ASSERT_STR_EQ(get_at(&j, "www.example.com", "/", 0, NOW), "a=4");
    done(&j);
}

TEST(max_age_zero_or_less_deletes)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    set(&j, "b=2");
    set(&j, "c=3");
    set(&j, "a=x; Max-Age=0");
    ASSERT_STR_EQ(get(&j, "/"), "b=2; c=3");
    set(&j, "b=; Max-Age=-5");
    ASSERT_STR_EQ(get(&j, "/"), "c=3");
    set(&j, "d=4; Max-Age=0"); /* nothing to delete, nothing stored */
    ASSERT_EQ(j.n, 1);
    done(&j);
}

TEST(delete_touches_only_the_same_path)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    set(&j, "a=2; Path=/x");
    set(&j, "a=; Max-Age=0; Path=/x");
    ASSERT_EQ(j.n, 1);
    ASSERT_STR_EQ(get(&j, "/x"), "a=1");
    done(&j);
}

TEST(past_expires_deletes)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    set(&j, "b=2");
    set(&j, "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT");
    ASSERT_EQ(j.n, 1);
    ASSERT_STR_EQ(get(&j, "/"), "b=2");
    done(&j);
}

TEST(future_expires_sent_until_then)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; Expires=Tue, 01 Jan 2030 00:00:00 GMT");
    set(&j, "b=2");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW), "a=1; b=2");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, T_2030 - 1), "a=1; b=2");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, T_2030), "b=2");
    ASSERT_EQ(j.n, 1); /* purged */
    /* Expiring the second it arrives: not stored at all. */
    set_at(&j, "example.com", "/", 0, "c=1; Expires=Tue, 01 Jan 2030 00:00:00 GMT", T_2030);
    ASSERT_EQ(j.n, 1);
    done(&j);
}

TEST(max_age_counts_from_now)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; Max-Age=60");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW + 59), "a=1");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW + 60), "");
    set(&j, "b=1; Max-Age=99999999999999999999999"); /* saturates */
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, LLONG_MAX - 1), "b=1");
    set(&j, "c=1; Max-Age=12x"); /* not a number: ignored, a session cookie */
    set(&j, "d=1; Max-Age=-");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, LLONG_MAX - 1), "b=1; c=1; d=1");
    done(&j);
}

TEST(max_age_wins_over_expires)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; Max-Age=60; Expires=Tue, 01 Jan 2030 00:00:00 GMT");
    set(&j, "b=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60");
    set(&j, "c=1; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Max-Age=0");
    ASSERT_EQ(j.n, 2);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW + 59), "a=1; b=1");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW + 60), "");
    done(&j);
}

/* Stored at `stored`, the cookie must be sent up to want - 1 and not at want. */
static void assert_expires_at(const char *cookie, long long stored, long long want)
{
    goose_cookie_jar j = {0};
    set_at(&j, "example.com", "/", 0, cookie, stored);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, want - 1), "a=1");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, want), "");
    done(&j);
}

TEST(expires_date_formats)
{
    long long before = T_1994 - 1000;
    assert_expires_at("a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT", before, T_1994);  /* RFC 1123 */
    assert_expires_at("a=1; Expires=Sunday, 06-Nov-94 08:49:37 GMT", before, T_1994); /* RFC 850 */
    assert_expires_at("a=1; Expires=Sun Nov  6 08:49:37 1994", before, T_1994);       /* asctime */
    assert_expires_at("a=1; expires=1994 nOV 6 8:49:37", before, T_1994);             /* any order */
    assert_expires_at("a=1; Expires=06 November 1994 08:49:37 UTC+9", before, T_1994);
    /* The first token of each kind counts. */
    assert_expires_at("a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT 2030 Dec 12:00:00 07",
                      before, T_1994);
    assert_expires_at("a=1; Expires=Thu, 29 Feb 2024 10:00:00 GMT", NOW, 1709200800);
}

TEST(expires_two_digit_years)
{
    assert_expires_at("a=1; Expires=Thu, 01-Jan-70 00:00:10 GMT", 0, 10);
    assert_expires_at("a=1; Expires=Sat, 01-Mar-69 12:00:00 GMT", NOW, 3129364800LL);
}

TEST(malformed_expires_is_ignored)
{
    static const char *const bad[] = {
        "a=1; Expires=yesterday",
        "a=1; Expires=Sun, 31 Feb 2030 10:00:00 GMT", /* no such day */
        "a=1; Expires=Sun, 29 Feb 2100 10:00:00 GMT", /* not a leap year */
        "a=1; Expires=Sun, 06 Nov 1994 24:00:00 GMT", /* hour 24 */
        "a=1; Expires=Sun, 06 Nov 1994 08:60:00 GMT",
        "a=1; Expires=Sun, 06 Nov 1500 08:49:37 GMT", /* before 1601 */
        "a=1; Expires=Nov 1994 08:49:37",             /* no day */
        "a=1; Expires=Sun, 06 Nov 1994 GMT",          /* no time */
        "a=1; Expires=Sun, 06 Nov 1994 123:49:37 GMT",
        "a=1; Expires=Sun, 06 Nov 1994 08h49m37 GMT", /* ':' only */
        "a=1; Expires=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        goose_cookie_jar j = {0};
        set(&j, bad[i]);
        /* A session cookie: never expires. */
        ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, LLONG_MAX - 1), "a=1");
        done(&j);
    }
    /* Ignored, so the earlier (past) Expires still counts. */
    goose_cookie_jar j = {0};
    set(&j, "a=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Expires=garbage");
    ASSERT_EQ(j.n, 0);
    done(&j);
}

TEST(domain_attribute_reaches_subdomains)
{
    goose_cookie_jar j = {0};
    set_at(&j, "www.example.com", "/", 0, "a=1; Domain=example.com", NOW);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW), "a=1");
    ASSERT_STR_EQ(get_at(&j, "www.example.com", "/", 0, NOW), "a=1");
    ASSERT_STR_EQ(get_at(&j, "a.b.example.com", "/", 0, NOW), "a=1");
    ASSERT_STR_EQ(get_at(&j, "notexample.com", "/", 0, NOW), "");
    ASSERT_STR_EQ(get_at(&j, "example.org", "/", 0, NOW), "");
    ASSERT_STR_EQ(get_at(&j, "com", "/", 0, NOW), "");
    done(&j);
}

TEST(domain_not_matching_host_is_rejected)
{
    goose_cookie_jar j = {0};
    set_at(&j, "www.example.com", "/", 0, "a=1; Domain=other.com", NOW);
    set_at(&j, "www.example.com", "/", 0, "b=1; Domain=ww.example.com", NOW);
    set_at(&j, "www.example.com", "/", 0, "c=1; Domain=sub.www.example.com", NOW);
    set_at(&j, "example.com", "/", 0, "d=1; Domain=www.example.com", NOW);
    ASSERT_EQ(j.n, 0);
    set_at(&j, "www.example.com", "/", 0, "e=1; Domain=www.example.com", NOW);
    ASSERT_EQ(j.n, 1);
    done(&j);
}

TEST(domain_leading_dot_and_case)
{
    goose_cookie_jar j = {0};
    set_at(&j, "WWW.Example.com", "/", 0, "a=1; Domain=.EXAMPLE.com", NOW);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW), "a=1");
    ASSERT_STR_EQ(get_at(&j, "www.EXAMPLE.com", "/", 0, NOW), "a=1");
    /* Same cookie, whichever way the domain was spelt. */
    set_at(&j, "example.com", "/", 0, "a=2; domain=example.COM", NOW);
    ASSERT_EQ(j.n, 1);
    ASSERT_STR_EQ(get_at(&j, "x.example.com", "/", 0, NOW), "a=2");
    done(&j);
}

TEST(empty_domain_means_host_only)
{
    goose_cookie_jar j = {0};
    set_at(&j, "example.com", "/", 0, "a=1; Domain=", NOW);
    set_at(&j, "example.com", "/", 0, "b=1; Domain=.", NOW);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW), "a=1; b=1");
    ASSERT_STR_EQ(get_at(&j, "www.example.com", "/", 0, NOW), "");
    /* An empty Domain is skipped, not the last one that counts. */
    set_at(&j, "example.com", "/", 0, "c=1; Domain=example.com; Domain=", NOW);
    ASSERT_STR_EQ(get_at(&j, "www.example.com", "/", 0, NOW), "c=1");
    done(&j);
}

TEST(ip_host_needs_exact_domain)
{
    goose_cookie_jar j = {0};
    set_at(&j, "192.168.0.10", "/", 0, "a=1; Domain=0.10", NOW);
    set_at(&j, "192.168.0.10", "/", 0, "b=1; Domain=168.0.10", NOW);
    set_at(&j, "192.168.0.10", "/", 0, "c=1; Domain=192.168.0.1", NOW);
    ASSERT_EQ(j.n, 0);
    set_at(&j, "192.168.0.10", "/", 0, "d=1; Domain=192.168.0.10", NOW);
    set_at(&j, "192.168.0.10", "/", 0, "e=1", NOW);
    ASSERT_STR_EQ(get_at(&j, "192.168.0.10", "/", 0, NOW), "d=1; e=1");
    ASSERT_STR_EQ(get_at(&j, "1.192.168.0.10", "/", 0, NOW), "");
    set_at(&j, "::1", "/", 0, "f=1", NOW);
    ASSERT_STR_EQ(get_at(&j, "::1", "/", 0, NOW), "f=1");
    ASSERT_STR_EQ(get_at(&j, "0::1", "/", 0, NOW), "");
    done(&j);
}

TEST(host_only_not_sent_to_subdomain)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    ASSERT_STR_EQ(get_at(&j, "www.example.com", "/", 0, NOW), "");
    ASSERT_STR_EQ(get_at(&j, "EXAMPLE.COM", "/", 0, NOW), "a=1");
    done(&j);
}

TEST(default_path)
{
    goose_cookie_jar j = {0};
    set_at(&j, "example.com", "/a/b/c", 0, "a=1", NOW);
    ASSERT_STR_EQ(get(&j, "/a/b"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/b/"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/b/x"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/b?q"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/bc"), "");
    ASSERT_STR_EQ(get(&j, "/a"), "");
    ASSERT_STR_EQ(get(&j, "/"), "");
    done(&j);

    set_at(&j, "example.com", "/x/y?next=/p/q/r", 0, "b=1", NOW); /* query stripped */
    ASSERT_STR_EQ(get(&j, "/x"), "b=1");
    ASSERT_STR_EQ(get(&j, "/p/q"), "");
    set_at(&j, "example.com", "/top", 0, "c=1", NOW); /* one '/': "/" */
    set_at(&j, "example.com", "", 0, "d=1", NOW);
    set_at(&j, "example.com", NULL, 0, "e=1", NOW);
    ASSERT_STR_EQ(get(&j, "/zzz"), "c=1; d=1; e=1");
    done(&j);
}

TEST(path_attribute)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; Path=/a/b");
    ASSERT_STR_EQ(get(&j, "/a/b"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/b/"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/b/x"), "a=1");
    ASSERT_STR_EQ(get(&j, "/a/bc"), "");
    ASSERT_STR_EQ(get(&j, "/A/B"), ""); /* paths are case-sensitive */
    done(&j);

    set(&j, "b=1; Path=/a/");
    ASSERT_STR_EQ(get(&j, "/a/x"), "b=1");
    ASSERT_STR_EQ(get(&j, "/a"), "");
    done(&j);

    /* Not starting with '/' (or empty): the default path, also when an
     * earlier Path was fine. */
    set_at(&j, "example.com", "/x/y", 0, "c=1; Path=nope", NOW);
    set_at(&j, "example.com", "/x/y", 0, "d=1; Path=", NOW);
    set_at(&j, "example.com", "/x/y", 0, "e=1; Path=/; Path=x", NOW);
    ASSERT_STR_EQ(get(&j, "/x"), "c=1; d=1; e=1");
    ASSERT_STR_EQ(get(&j, "/"), "");
    done(&j);
}

TEST(secure_only_over_https)
{
    goose_cookie_jar j = {0};
    set_at(&j, "example.com", "/", 1, "a=1; Secure", NOW);
    set_at(&j, "example.com", "/", 1, "b=2", NOW);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW), "b=2");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 1, NOW), "a=1; b=2");
    /* RFC 6265: set over http, kept, but still only sent over https. */
    set_at(&j, "example.com", "/", 0, "c=3; secure", NOW);
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 0, NOW), "b=2");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 1, NOW), "a=1; b=2; c=3");
    done(&j);
}

TEST(http_only_kept_and_sent)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; HttpOnly");
    set(&j, "b=2; httponly; Secure");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/", 1, NOW), "a=1; b=2");
    done(&j);
}

TEST(attribute_names_any_case)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; pAtH=/p");
    set(&j, "b=1; SECURE");
    set(&j, "c=1; mAx-AgE=60");
    ASSERT_STR_EQ(get(&j, "/p"), "a=1; c=1");
    set(&j, "a=; MAX-AGE=0; PATH=/p");
    set(&j, "c=1; EXPIRES=Sun, 06 Nov 1994 08:49:37 GMT");
    ASSERT_EQ(j.n, 1);
    done(&j);
}

TEST(unknown_attributes_skipped)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1; SameSite=Lax; Priority=High; Partitioned; =; ;; Path=/q");
    ASSERT_STR_EQ(get(&j, "/q"), "a=1");
    ASSERT_STR_EQ(get(&j, "/"), "");
    done(&j);
}

TEST(quoted_values_kept)
{
    goose_cookie_jar j = {0};
    set(&j, "a=\"x y\"");
    set(&j, "b=\"\"");
    set(&j, "c=\"q\"; Path=\"/p\""); /* a quoted path does not start with '/' */
    ASSERT_STR_EQ(get(&j, "/"), "a=\"x y\"; b=\"\"; c=\"q\"");
    done(&j);
}

TEST(whitespace_trimmed)
{
    goose_cookie_jar j = {0};
    set(&j, "  \t a \t= 1 x\t ;  Path = /p ; Max-Age = 60 \r\n");
    ASSERT_STR_EQ(get(&j, "/p"), "a=1 x");
    ASSERT_STR_EQ(get_at(&j, "example.com", "/p", 0, NOW + 60), "");
    set(&j, "b=2\n");
    set(&j, "c=3\r");
    ASSERT_STR_EQ(get(&j, "/"), "b=2; c=3");
    done(&j);
}

/* RFC 6265bis: no '=' means an empty name, and the value goes alone. */
TEST(pair_without_equals_has_empty_name)
{
    goose_cookie_jar j = {0};
    set(&j, "abc; Path=/");
    set(&j, "x=1");
    ASSERT_STR_EQ(get(&j, "/"), "abc; x=1");
    set(&j, "=def"); /* the same empty name: replaces */
    ASSERT_STR_EQ(get(&j, "/"), "def; x=1");
    ASSERT_EQ(j.n, 2);
    done(&j);
}

TEST(garbage_is_ignored)
{
    static const char *const junk[] = {
        "", ";", ";;;", "=", " = ; Path=/", "\r\n", " ", "; a=1", "=;Secure",
        "a=1\r\nSet-Cookie: b=2", /* a line break inside */
        "a=\x01", "a=\x7f", "\x1b=1",
    };
    goose_cookie_jar j = {0};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
        set(&j, junk[i]);
    ASSERT_EQ(goose__cookies_store(&j, "example.com", "/", 0, NULL, 0, NOW), 0);
    ASSERT_EQ(goose__cookies_store(&j, "example.com", "/", 0, "a=1\0b", 5, NOW), 0);
    ASSERT_EQ(goose__cookies_store(&j, "example.com", "/", 0, "a=1; Path=/\0", 12, NOW), 0);
    ASSERT_EQ(goose__cookies_store(&j, "", "/", 0, "a=1", 3, NOW), 0);
    ASSERT_EQ(j.n, 0);
    /* Only len counts: what follows is not read. */
    ASSERT_EQ(goose__cookies_store(&j, "example.com", "/", 0, "a=1; Secure", 3, NOW), 0);
    ASSERT_STR_EQ(get(&j, "/"), "a=1");
    ASSERT_STR_EQ(get_at(&j, "", "/", 0, NOW), "");
    done(&j);
}

TEST(random_bytes_do_not_crash)
{
    static const char alphabet[] = "ab=; \t\r\n\"/.,:-0123456789\x00\x01\x7f\xff"
                                   "ExpiresMax-AgeDomainPathSecureJanGMTexample.com";
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    char s[200];
    goose_cookie_jar j = {0};
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(test_rng(&x) % sizeof s);
        for (size_t i = 0; i < n; i++)
            s[i] = alphabet[test_rng(&x) % (sizeof alphabet - 1)];
        const char *host = round % 3 ? "www.example.com" : "10.0.0.1";
        ASSERT_EQ(goose__cookies_store(&j, host, "/a/b", round & 1, s, n, NOW), 0);
        get_at(&j, host, "/a/b/c", round & 1, NOW + round % 100);
    }
    ASSERT_GT(j.n, 0);
    ASSERT_LE(j.n, 300);
    done(&j);
}

TEST(pair_size_limit)
{
    static char cookie[5000];
    goose_cookie_jar j = {0};
    memset(cookie, 'v', sizeof cookie - 1);
    cookie[0] = 'n';
    cookie[1] = '=';
    cookie[4097] = '\0'; /* name 1 + value 4095 = 4096: kept */
    set(&j, cookie);
    ASSERT_EQ(j.n, 1);
    cookie[0] = 'm';
    cookie[4097] = 'v';
    cookie[4098] = '\0'; /* 4097: ignored */
    set(&j, cookie);
    ASSERT_EQ(j.n, 1);
    ASSERT_EQ(strncmp(get(&j, "/"), "n=vvv", 5), 0);
    ASSERT_EQ(out.len, 4097);
    done(&j);

    static char long_value[100001];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[0] = 'a';
    long_value[1] = '=';
    set(&j, long_value);
    ASSERT_EQ(j.n, 0);
    done(&j);
}

/* RFC 6265bis: an attribute value over 1024 bytes is dropped. */
TEST(long_attribute_ignored)
{
    static char cookie[1200];
    goose_cookie_jar j = {0};
    strcpy(cookie, "a=1; Path=/");
    memset(cookie + 11, 'p', 1024 - 1); /* the path is 1024 bytes: kept */
    set_at(&j, "example.com", "/x/y", 0, cookie, NOW);
    strcpy(cookie, "b=1; Path=/");
    memset(cookie + 11, 'p', 1024); /* 1025 bytes: the default path, /x */
    set_at(&j, "example.com", "/x/y", 0, cookie, NOW);
    ASSERT_STR_EQ(get(&j, "/x"), "b=1");
    memset(cookie, 'p', 1025);
    cookie[0] = '/';
    cookie[1024] = '\0';
    ASSERT_STR_EQ(get(&j, cookie), "a=1");
    done(&j);
}

TEST(cap_evicts_oldest_created)
{
    goose_cookie_jar j = {0};
    char c[32];
    /* c0 has the shortest path, so it is listed last, yet it goes first. */
    set(&j, "c0=1");
    for (int i = 1; i < 300; i++) {
        snprintf(c, sizeof c, "c%d=1", i);
        set_at(&j, "example.com", "/p/", 0, c, NOW);
    }
    ASSERT_EQ(j.n, 300);
    set(&j, "c0=2"); /* a replacement takes no room and stays the oldest */
    ASSERT_EQ(j.n, 300);
    set_at(&j, "example.com", "/p/", 0, "c300=1", NOW);
    ASSERT_EQ(j.n, 300);
    const char *h = get(&j, "/p");
    ASSERT_EQ(strncmp(h, "c1=1; c2=1;", 11), 0);
    ASSERT_STR_EQ(h + strlen(h) - 14, "c299=1; c300=1");
    done(&j);
}

TEST(cap_drops_expired_first)
{
    goose_cookie_jar j = {0};
    char c[32];
    set(&j, "first=1");
    set(&j, "short=1; Max-Age=10");
    for (int i = 2; i < 300; i++) {
        snprintf(c, sizeof c, "c%d=1", i);
        set(&j, c);
    }
    ASSERT_EQ(j.n, 300);
    set_at(&j, "example.com", "/", 0, "new=1", NOW + 20);
    ASSERT_EQ(j.n, 300);
    const char *h = get(&j, "/");
    ASSERT_EQ(strncmp(h, "first=1; c2=1;", 14), 0);
    ASSERT_NULL(strstr(h, "short"));
    ASSERT_NOT_NULL(strstr(h, "; new=1"));
    done(&j);
}

TEST(store_headers_block)
{
    static const char block[] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/html\r\n"
        "set-cookie: a=1\r\n"
        "SET-COOKIE:b=2; Path=/\r\n"
        "X-Set-Cookie: c=3\r\n"
        "Set-Cookie2: d=4\r\n"
        "Set-Cookie: e=5; Path=/x\n"
        "Content-Length: 0\r\n"
        "sEt-CoOkIe: f=6\r\n"
        "\r\n";
    goose_cookie_jar j = {0};
    ASSERT_EQ(goose__cookies_store_headers(&j, "example.com", "/", 0, block, sizeof block - 1,
                                           NOW), 0);
    ASSERT_EQ(j.n, 4);
    ASSERT_STR_EQ(get(&j, "/x"), "e=5; a=1; b=2; f=6");
    done(&j);
}

TEST(store_headers_edges)
{
    goose_cookie_jar j = {0};
    static const char last[] = "HTTP/1.1 302 Found\r\nSet-Cookie: a=1"; /* no final CRLF */
    ASSERT_EQ(goose__cookies_store_headers(&j, "example.com", "/", 0, last, sizeof last - 1,
                                           NOW), 0);
    ASSERT_STR_EQ(get(&j, "/"), "a=1");
    /* len ends the block: the second line is not read. */
    static const char two[] = "Set-Cookie: b=2\r\nSet-Cookie: c=3\r\n";
    ASSERT_EQ(goose__cookies_store_headers(&j, "example.com", "/", 0, two, 17, NOW), 0);
    ASSERT_STR_EQ(get(&j, "/"), "a=1; b=2");
    ASSERT_EQ(goose__cookies_store_headers(&j, "example.com", "/", 0, "Set-Cookie:", 11, NOW), 0);
    ASSERT_EQ(goose__cookies_store_headers(&j, "example.com", "/", 0, "\n\n\r\n", 4, NOW), 0);
    ASSERT_EQ(goose__cookies_store_headers(&j, "example.com", "/", 0, NULL, 0, NOW), 0);
    ASSERT_EQ(j.n, 2);
    done(&j);
}

TEST(free_then_reuse)
{
    goose_cookie_jar j = {0};
    set(&j, "a=1");
    set(&j, "b=2");
    goose__cookies_free(&j);
    ASSERT_EQ(j.n, 0);
    ASSERT_NULL(j.cookies);
    ASSERT_STR_EQ(get(&j, "/"), "");
    set(&j, "c=3");
    ASSERT_STR_EQ(get(&j, "/"), "c=3");
    done(&j);
}

TEST_MAIN(TEST_ENTRY(simple_set_and_send), TEST_ENTRY(empty_jar_writes_nothing),
          TEST_ENTRY(header_appends_to_out), TEST_ENTRY(order_longer_path_then_creation),
          TEST_ENTRY(replace_keeps_creation_order), TEST_ENTRY(identity_is_name_domain_path),
          TEST_ENTRY(max_age_zero_or_less_deletes), TEST_ENTRY(delete_touches_only_the_same_path),
          TEST_ENTRY(past_expires_deletes), TEST_ENTRY(future_expires_sent_until_then),
          TEST_ENTRY(max_age_counts_from_now), TEST_ENTRY(max_age_wins_over_expires),
          TEST_ENTRY(expires_date_formats), TEST_ENTRY(expires_two_digit_years),
          TEST_ENTRY(malformed_expires_is_ignored), TEST_ENTRY(domain_attribute_reaches_subdomains),
          TEST_ENTRY(domain_not_matching_host_is_rejected), TEST_ENTRY(domain_leading_dot_and_case),
          TEST_ENTRY(empty_domain_means_host_only), TEST_ENTRY(ip_host_needs_exact_domain),
          TEST_ENTRY(host_only_not_sent_to_subdomain), TEST_ENTRY(default_path),
          TEST_ENTRY(path_attribute), TEST_ENTRY(secure_only_over_https),
          TEST_ENTRY(http_only_kept_and_sent), TEST_ENTRY(attribute_names_any_case),
          TEST_ENTRY(unknown_attributes_skipped), TEST_ENTRY(quoted_values_kept),
          TEST_ENTRY(whitespace_trimmed), TEST_ENTRY(pair_without_equals_has_empty_name),
          TEST_ENTRY(garbage_is_ignored), TEST_ENTRY(random_bytes_do_not_crash),
          TEST_ENTRY(pair_size_limit), TEST_ENTRY(long_attribute_ignored),
          TEST_ENTRY(cap_evicts_oldest_created),
          TEST_ENTRY(cap_drops_expired_first), TEST_ENTRY(store_headers_block),
          TEST_ENTRY(store_headers_edges), TEST_ENTRY(free_then_reuse))
