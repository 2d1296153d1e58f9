/* Unit tests for src/webhooks/netguard.c: private-address table and URL checks.
 * Only IP literals, "localhost" and the reserved ".invalid" name reach the
 * real resolver, so no test depends on outside DNS; names under ".example"
 * go to a fake resolver that answers what a test says, or hangs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "webhooks/netguard.h"

#include "fake_resolver.h"

typedef struct {
    const char *addr;
    int is_private;
} addr_case;

/* Each range: the address just below, first, last, just above. */
static const addr_case v4_cases[] = {
    {"0.0.0.0", 1},         {"0.255.255.255", 1},   {"1.0.0.0", 0},
    {"9.255.255.255", 0},   {"10.0.0.0", 1},        {"10.255.255.255", 1},
    {"11.0.0.0", 0},        {"100.63.255.255", 0},  {"100.64.0.0", 1},
    {"100.127.255.255", 1}, {"100.128.0.0", 0},     {"126.255.255.255", 0},
    {"127.0.0.0", 1},       {"127.0.0.1", 1},       {"127.255.255.255", 1},
    {"128.0.0.0", 0},       {"169.253.255.255", 0}, {"169.254.0.0", 1},
    {"169.254.169.254", 1}, {"169.254.255.255", 1}, {"169.255.0.0", 0},
    {"172.15.255.255", 0},  {"172.16.0.0", 1},      {"172.31.255.255", 1},
    {"172.32.0.0", 0},      {"191.255.255.255", 0}, {"192.0.0.0", 1},
    {"192.0.0.255", 1},     {"192.0.1.0", 0},       {"192.0.1.255", 0},
    {"192.0.2.0", 1},       {"192.0.2.255", 1},     {"192.0.3.0", 0},
    {"192.88.98.255", 0},   {"192.88.99.0", 1},     {"192.88.99.255", 1},
    {"192.88.100.0", 0},    {"192.167.255.255", 0}, {"192.168.0.0", 1},
    {"192.168.255.255", 1}, {"192.169.0.0", 0},     {"198.17.255.255", 0},
    {"198.18.0.0", 1},      {"198.19.255.255", 1},  {"198.20.0.0", 0},
    {"198.51.99.255", 0},   {"198.51.100.0", 1},    {"198.51.100.255", 1},
    {"198.51.101.0", 0},    {"203.0.112.255", 0},   {"203.0.113.0", 1},
    {"203.0.113.255", 1},   {"203.0.114.0", 0},     {"223.255.255.255", 0},
    {"224.0.0.0", 1},       {"239.255.255.255", 1}, {"240.0.0.0", 1},
    {"255.255.255.254", 1}, {"255.255.255.255", 1}, {"8.8.8.8", 0},
    {"1.1.1.1", 0},         {"93.184.215.14", 0},
};

static const addr_case v6_cases[] = {
    /* unspecified, loopback and the IPv4-compatible block */
    {"::", 1},
    {"::1", 1},
    {"::2", 1},
    {"::127.0.0.1", 1},
    {"::10.1.2.3", 1},
    {"::8.8.8.8", 0},
    /* IPv4-mapped and SIIT-translated: the embedded address decides */
    {"::ffff:0.0.0.0", 1},
    {"::ffff:127.0.0.1", 1},
    {"::ffff:10.0.0.1", 1},
    {"::ffff:169.254.169.254", 1},
    {"::ffff:100.64.0.1", 1},
    {"::ffff:8.8.8.8", 0},
    {"::ffff:0:127.0.0.1", 1},
    {"::ffff:0:8.8.8.8", 0},
    /* outside 2000::/3 */
    {"::1:0:0:0", 1},
    {"64:ff9b::8.8.8.8", 1},
    {"64:ff9b::7f00:1", 1},
    {"64:ff9b:1::1", 1},
    {"100::1", 1},
    {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"4000::", 1},
    {"5f00::1", 1},
    {"fc00::", 1},
    {"fd12:3456::1", 1},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"fe80::", 1},
    {"fe80::1", 1},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"fec0::1", 1},
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"ff00::", 1},
    {"ff02::1", 1},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    /* inside 2000::/3 */
    {"2000::", 0},
    {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"2001::", 1},
    {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"2001:1::", 0},
    {"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"2001:2::", 1},
    {"2001:2:0:ffff:ffff:ffff:ffff:ffff", 1},
    {"2001:2:1::", 0},
    {"2001:f:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"2001:10::", 1},
    {"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"2001:20::", 1},
    {"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"2001:30::", 0},
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"2001:db8::", 1},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"2001:db9::", 0},
    {"2001:4860:4860::8888", 0},
    {"2606:4700:4700::1111", 0},
    /* 6to4: the IPv4 address in bits 16..47 decides */
    {"2002::", 1},
    {"2002:7f00:1::", 1},
    {"2002:a00:1::1", 1},
    {"2002:c0a8:101::", 1},
    {"2002:a9fe:a9fe::1", 1},
    {"2002:e000:1::", 1},
    {"2002:808:808::", 0},
    {"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0},
    {"3fff::", 1},
    {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"3fff:1000::", 0},
};

static void test_ipv4_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof v4_cases / sizeof v4_cases[0]; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(443)};
        assert_int_equal(inet_pton(AF_INET, v4_cases[i].addr, &sa.sin_addr), 1);
        int got = rn_addr_is_private((struct sockaddr *)&sa);
        if (got != v4_cases[i].is_private)
            fail_msg("%s: expected %d, got %d", v4_cases[i].addr, v4_cases[i].is_private, got);
    }
}

static void test_ipv6_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof v6_cases / sizeof v6_cases[0]; i++) {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
        assert_int_equal(inet_pton(AF_INET6, v6_cases[i].addr, &sa.sin6_addr), 1);
        int got = rn_addr_is_private((struct sockaddr *)&sa);
        if (got != v6_cases[i].is_private)
            fail_msg("%s: expected %d, got %d", v6_cases[i].addr, v6_cases[i].is_private, got);
    }
}

static void test_unknown_family_is_private(void **state)
{
    (void)state;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    assert_int_equal(rn_addr_is_private((struct sockaddr *)&un), 1);
    assert_int_equal(rn_addr_is_private(NULL), 1);
}

typedef struct {
    const char *url;
    rn_url_verdict verdict;
    const char *pin; /* checked when verdict is RN_URL_OK */
} url_case;

static const url_case strict_cases[] = {
    /* odd spellings of loopback, all normalised by libcurl */
    {"https://2130706433/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://0x7f.1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://017700000001/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://0x7f000001/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://0177.0.0.1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://127.1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://%31%32%37.0.0.1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://0/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://0.0.0.0:443/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://0x7f.0x0.0x0.0x1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://127.000.000.001/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[::FFFF:7F00:1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[0:0:0:0:0:0:0:1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[::ffff:127.0.0.1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[0:0:0:0:0:ffff:7f00:1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[::127.0.0.1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[::1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[::]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[2002:7f00:1::]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[64:ff9b::7f00:1]/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://[fd00::1]:8443/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://localhost/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://localhost./", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://LOCALHOST:8443/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://hooks.localhost/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://169.254.169.254/latest/meta-data/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://10.0.0.1:8443/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://100.64.0.1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://224.0.0.1/", RN_URL_PRIVATE_ADDRESS, NULL},
    {"https://255.255.255.255/", RN_URL_PRIVATE_ADDRESS, NULL},
    /* schemes: only https without the development setting */
    {"http://93.184.215.14/", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"http://2130706433/", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"ftp://93.184.215.14/", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"file:///etc/passwd", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"gopher://127.0.0.1:6379/_FLUSHALL", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"dict://127.0.0.1:11211/stats", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"ws://93.184.215.14/", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"javascript:alert(1)", RN_URL_INVALID, NULL},
    /* structure */
    {"https://user@93.184.215.14/", RN_URL_INVALID, NULL},
    {"https://u:p@93.184.215.14/", RN_URL_INVALID, NULL},
    {"https://:p@93.184.215.14/", RN_URL_INVALID, NULL},
    {"https://@93.184.215.14/", RN_URL_INVALID, NULL},
    {"https://127.0.0.1:443@8.8.8.8/", RN_URL_INVALID, NULL},
    {"https://8.8.8.8%00.example/", RN_URL_INVALID, NULL},
    {"https://[fe80::1%25eth0]/", RN_URL_INVALID, NULL},
    {"https://[::ffff:127.0.0.1%25lo]/", RN_URL_INVALID, NULL},
    {"https://93.184.215.14:0/", RN_URL_INVALID, NULL},
    {"https://93.184.215.14:65536/", RN_URL_INVALID, NULL},
    {"https://93.184.215.14:99999/", RN_URL_INVALID, NULL},
    {"https://", RN_URL_INVALID, NULL},
    {"93.184.215.14", RN_URL_INVALID, NULL},
    {"", RN_URL_INVALID, NULL},
    {"https://exa mple.com/", RN_URL_INVALID, NULL},
    {"https://93.184.215.14/\r\nX-Injected: 1", RN_URL_INVALID, NULL},
    {"https://nonexistent.invalid/", RN_URL_UNRESOLVABLE, NULL},
    /* accepted, with the pin libcurl will use */
    {"https://93.184.215.14/", RN_URL_OK, "::93.184.215.14:443"},
    {"https://8.8.8.8:8443/hook?x=1#f", RN_URL_OK, "::8.8.8.8:8443"},
    {"HTTPS://1.1.1.1/", RN_URL_OK, "::1.1.1.1:443"},
    {"https://134744072/", RN_URL_OK, "::8.8.8.8:443"},
    {"https://[2606:4700:4700::1111]/", RN_URL_OK, "::[2606:4700:4700::1111]:443"},
    {"https://[::ffff:8.8.8.8]:8443/", RN_URL_OK, "::[::ffff:8.8.8.8]:8443"},
};

static const url_case open_cases[] = {
    {"http://127.0.0.1:8080/hook", RN_URL_OK, "::127.0.0.1:8080"},
    {"http://2130706433/", RN_URL_OK, "::127.0.0.1:80"},
    {"http://0x7f.1/", RN_URL_OK, "::127.0.0.1:80"},
    {"https://10.1.2.3/", RN_URL_OK, "::10.1.2.3:443"},
    {"https://169.254.169.254/", RN_URL_OK, "::169.254.169.254:443"},
    {"http://[::1]:8080/", RN_URL_OK, "::[::1]:8080"},
    {"https://93.184.215.14/", RN_URL_OK, "::93.184.215.14:443"},
    {"ftp://127.0.0.1/", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"gopher://127.0.0.1:6379/", RN_URL_SCHEME_NOT_ALLOWED, NULL},
    {"http://u@127.0.0.1/", RN_URL_INVALID, NULL},
    {"http://[fe80::1%25lo]/", RN_URL_INVALID, NULL},
    {"http://127.0.0.1:0/", RN_URL_INVALID, NULL},
    {"http://nonexistent.invalid/", RN_URL_UNRESOLVABLE, NULL},
};

static void run_url_cases(const url_case *cases, size_t n, int allow_private)
{
    for (size_t i = 0; i < n; i++) {
        char pin[RN_URL_PIN_MAX];
        strcpy(pin, "untouched");
        rn_url_verdict got = rn_url_check(cases[i].url, allow_private, 5000, pin, sizeof pin);
        if (got != cases[i].verdict)
            fail_msg("%s (allow_private=%d): expected verdict %d, got %d", cases[i].url,
                     allow_private, cases[i].verdict, got);
        if (got == RN_URL_OK && strcmp(pin, cases[i].pin) != 0)
            fail_msg("%s: expected pin \"%s\", got \"%s\"", cases[i].url, cases[i].pin, pin);
    }
}

static void test_url_strict(void **state)
{
    (void)state;
    run_url_cases(strict_cases, sizeof strict_cases / sizeof strict_cases[0], 0);
}

static void test_url_allow_private(void **state)
{
    (void)state;
    run_url_cases(open_cases, sizeof open_cases / sizeof open_cases[0], 1);
}

static void test_url_localhost_resolves_when_allowed(void **state)
{
    (void)state;
    char pin[RN_URL_PIN_MAX];
    assert_int_equal(rn_url_check("http://localhost:9000/", 1, 5000, pin, sizeof pin), RN_URL_OK);
    /* /etc/hosts decides which loopback comes first */
    if (strcmp(pin, "::127.0.0.1:9000") != 0)
        assert_string_equal(pin, "::[::1]:9000");
}

/* Full-width digits: with a UTF-8 locale libcurl's IDNA step turns the
 * host into 127.0.0.1 (private); without one the conversion fails
 * (invalid). Which one depends on the process locale; OK never may. */
static void test_url_fullwidth_digits_refused(void **state)
{
    (void)state;
    rn_url_verdict v = rn_url_check("https://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/", 0,
                                    5000, NULL, 0);
    if (v != RN_URL_PRIVATE_ADDRESS)
        assert_int_equal(v, RN_URL_INVALID);
}

static void test_url_too_long(void **state)
{
    (void)state;
    char url[RN_URL_MAX_LEN + 2];
    const char *prefix = "https://93.184.215.14/";
    size_t plen = strlen(prefix);
    memcpy(url, prefix, plen);
    memset(url + plen, 'a', sizeof url - plen - 1);
    url[RN_URL_MAX_LEN] = '\0'; /* exactly the limit: accepted */
    assert_int_equal(rn_url_check(url, 0, 5000, NULL, 0), RN_URL_OK);
    url[RN_URL_MAX_LEN] = 'a';
    url[RN_URL_MAX_LEN + 1] = '\0';
    assert_int_equal(rn_url_check(url, 0, 5000, NULL, 0), RN_URL_INVALID);
    assert_int_equal(rn_url_check(NULL, 1, 5000, NULL, 0), RN_URL_INVALID);
}

static void test_url_pin_capacity(void **state)
{
    (void)state;
    const char *url = "https://8.8.8.8/";
    char pin[64];
    /* "::8.8.8.8:443" is 13 bytes plus the NUL */
    assert_int_equal(rn_url_check(url, 0, 5000, pin, 14), RN_URL_OK);
    assert_string_equal(pin, "::8.8.8.8:443");
    assert_int_equal(rn_url_check(url, 0, 5000, pin, 13), RN_URL_INVALID);
    assert_int_equal(rn_url_check(url, 0, 5000, NULL, 0), RN_URL_OK);
}

static void test_url_resolve_fills_address(void **state)
{
    (void)state;
    rn_url_target t;
    assert_int_equal(rn_url_resolve("https://0x08080808:8443/", 0, 5000, &t), RN_URL_OK);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&t.addr;
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 8443);
    assert_int_equal(ntohl(in->sin_addr.s_addr), 0x08080808u);
    assert_int_equal(t.addrlen, sizeof(struct sockaddr_in));
    assert_string_equal(t.pin, "::8.8.8.8:8443");

    assert_int_equal(rn_url_resolve("https://[2606:4700::1111]/", 0, 5000, &t), RN_URL_OK);
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&t.addr;
    struct in6_addr want;
    assert_int_equal(inet_pton(AF_INET6, "2606:4700::1111", &want), 1);
    assert_int_equal(in6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(in6->sin6_port), 443);
    assert_memory_equal(&in6->sin6_addr, &want, sizeof want);
    assert_string_equal(t.pin, "::[2606:4700::1111]:443");

    assert_int_equal(rn_url_resolve("https://127.0.0.1/", 0, 5000, NULL), RN_URL_PRIVATE_ADDRESS);
    assert_int_equal(rn_url_resolve("https://8.8.8.8/", 0, 5000, NULL), RN_URL_OK);
}

/* ---- name lookups through a fake resolver -------------------------------- */

static void test_name_lookup_answers_are_judged(void **state)
{
    (void)state;
    rn_url_target t;
    fake_dns_setup((fake_dns_plan){.answer = {"93.184.215.14"}});
    assert_int_equal(rn_url_resolve("https://hooks.example:8443/x", 0, 1000, &t), RN_URL_OK);
    assert_string_equal(t.pin, "::93.184.215.14:8443");
    assert_string_equal(fake_dns.host, "hooks.example");
    assert_string_equal(fake_dns.port, "8443");
    assert_int_equal(fake_dns_calls(), 1);

    /* one private answer is enough */
    fake_dns_setup((fake_dns_plan){.answer = {"93.184.215.14", "10.0.0.7"}});
    assert_int_equal(rn_url_resolve("https://hooks.example/", 0, 1000, &t),
                     RN_URL_PRIVATE_ADDRESS);
    fake_dns_setup((fake_dns_plan){.answer = {"10.0.0.7", "93.184.215.14"}});
    assert_int_equal(rn_url_resolve("https://hooks.example/", 1, 1000, &t), RN_URL_OK);
    assert_string_equal(t.pin, "::10.0.0.7:443");
    fake_dns_setup((fake_dns_plan){.error = EAI_NONAME});
    assert_int_equal(rn_url_resolve("https://hooks.example/", 0, 1000, &t), RN_URL_UNRESOLVABLE);

    /* numeric hosts never reach the resolver */
    fake_dns_setup((fake_dns_plan){.answer = {"93.184.215.14"}});
    assert_int_equal(rn_url_resolve("https://8.8.8.8/", 0, 1000, &t), RN_URL_OK);
    assert_int_equal(rn_url_resolve("https://[2606:4700::1111]/", 0, 1000, &t), RN_URL_OK);
    assert_int_equal(fake_dns_calls(), 0);
    fake_dns_open_and_drain();
}

static void test_hanging_lookup_is_bounded(void **state)
{
    (void)state;
    fake_dns_setup((fake_dns_plan){.hang = 1, .answer = {"93.184.215.14"}});
    rn_url_target t;
    long started = test_now_ms();
    assert_int_equal(rn_url_resolve("https://slow.example/", 0, 200, &t), RN_URL_DNS_TIMEOUT);
    long took = test_now_ms() - started;
    assert_in_range(took, 195, 1000);
    assert_int_equal(fake_dns_calls(), 1);
    assert_int_equal(rn_netguard_lookups_in_flight(), 1); /* still hanging, not waited for */
    assert_int_equal(rn_url_check("https://slow.example/", 0, 50, NULL, 0), RN_URL_DNS_TIMEOUT);
    assert_int_equal(rn_netguard_lookups_in_flight(), 2);
    fake_dns_open_and_drain();
}

/* One owner (tenant) whose names never answer gets RN_URL_DNS_MAX_PER_OWNER
 * lookups in flight, not the whole pool: another owner still resolves. */
static void test_hung_lookups_are_capped_per_owner(void **state)
{
    (void)state;
    fake_dns_setup((fake_dns_plan){.hang = 1, .answer = {"93.184.215.14"}});
    for (int i = 0; i < RN_URL_DNS_MAX_PER_OWNER; i++)
        assert_int_equal(rn_url_check_as("ten_a", "https://slow.example/", 0, 1, NULL, 0),
                         RN_URL_DNS_TIMEOUT);
    long started = test_now_ms();
    assert_int_equal(rn_url_check_as("ten_a", "https://slow.example/", 0, 5000, NULL, 0),
                     RN_URL_DNS_BUSY);
    assert_in_range(test_now_ms() - started, 0, 500);
    assert_int_equal(rn_netguard_lookups_in_flight(), RN_URL_DNS_MAX_PER_OWNER);
    /* another owner, and lookups charged to no one, still start */
    assert_int_equal(rn_url_check_as("ten_b", "https://slow.example/", 0, 1, NULL, 0),
                     RN_URL_DNS_TIMEOUT);
    assert_int_equal(rn_url_check("https://slow.example/", 0, 1, NULL, 0), RN_URL_DNS_TIMEOUT);
    assert_int_equal(rn_netguard_lookups_in_flight(), RN_URL_DNS_MAX_PER_OWNER + 2);
    fake_dns_open_and_drain();
    /* once its lookups have returned, the owner resolves again */
    fake_dns_setup((fake_dns_plan){.answer = {"93.184.215.14"}});
    assert_int_equal(rn_url_check_as("ten_a", "https://slow.example/", 0, 1000, NULL, 0),
                     RN_URL_OK);
    fake_dns_open_and_drain();
}

static void test_hung_lookups_are_capped(void **state)
{
    (void)state;
    fake_dns_setup((fake_dns_plan){.hang = 1, .answer = {"93.184.215.14"}});
    for (int i = 0; i < RN_URL_DNS_MAX_IN_FLIGHT; i++)
        assert_int_equal(rn_url_check("https://slow.example/", 0, 1, NULL, 0), RN_URL_DNS_TIMEOUT);
    long deadline = test_now_ms() + 5000;
    while (fake_dns_calls() < RN_URL_DNS_MAX_IN_FLIGHT && test_now_ms() < deadline)
        usleep(1000);
    assert_int_equal(fake_dns_calls(), RN_URL_DNS_MAX_IN_FLIGHT);
    assert_int_equal(rn_netguard_lookups_in_flight(), RN_URL_DNS_MAX_IN_FLIGHT);
    /* one more is refused without starting a lookup or waiting for one */
    long started = test_now_ms();
    assert_int_equal(rn_url_check("https://slow.example/", 0, 5000, NULL, 0), RN_URL_DNS_BUSY);
    assert_in_range(test_now_ms() - started, 0, 500);
    assert_int_equal(fake_dns_calls(), RN_URL_DNS_MAX_IN_FLIGHT);
    fake_dns_open_and_drain();
    /* and once they are done, lookups run again */
    fake_dns_setup((fake_dns_plan){.answer = {"93.184.215.14"}});
    assert_int_equal(rn_url_check("https://slow.example/", 0, 1000, NULL, 0), RN_URL_OK);
    fake_dns_open_and_drain();
}

static void test_verdict_text(void **state)
{
    (void)state;
    assert_string_equal(rn_url_verdict_text(RN_URL_OK), "ok");
    assert_string_equal(rn_url_verdict_text(RN_URL_INVALID), "invalid URL");
    assert_string_equal(rn_url_verdict_text(RN_URL_SCHEME_NOT_ALLOWED),
                        "URL scheme not allowed; use https");
    assert_string_equal(rn_url_verdict_text(RN_URL_PRIVATE_ADDRESS), "private address refused");
    assert_string_equal(rn_url_verdict_text(RN_URL_UNRESOLVABLE), "host name does not resolve");
    assert_string_equal(rn_url_verdict_text(RN_URL_DNS_TIMEOUT), "dns timeout");
    assert_string_equal(rn_url_verdict_text((rn_url_verdict)99), "invalid URL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_table),
        cmocka_unit_test(test_ipv6_table),
        cmocka_unit_test(test_unknown_family_is_private),
        cmocka_unit_test(test_url_strict),
        cmocka_unit_test(test_url_allow_private),
        cmocka_unit_test(test_url_localhost_resolves_when_allowed),
        cmocka_unit_test(test_url_fullwidth_digits_refused),
        cmocka_unit_test(test_url_too_long),
        cmocka_unit_test(test_url_pin_capacity),
        cmocka_unit_test(test_url_resolve_fills_address),
        cmocka_unit_test(test_name_lookup_answers_are_judged),
        cmocka_unit_test(test_hanging_lookup_is_bounded),
        cmocka_unit_test(test_hung_lookups_are_capped_per_owner),
        cmocka_unit_test(test_hung_lookups_are_capped),
        cmocka_unit_test(test_verdict_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
