/*
 * netguard: URL and address checks for webhook destinations.
 *
 * The URL is parsed by curl_url() rather than by hand so that the host we
 * judge is byte for byte the host libcurl will later connect to; libcurl
 * normalises numeric IPv4 spellings (decimal, octal, hex, short forms) and
 * percent-encoding in the host, and a hand-written parser that disagreed
 * with it would be an SSRF hole.
 */
#include "webhooks/netguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/util.h"

/* Longest DNS name (253) plus the brackets of an IPv6 literal and a dot. */
#define NETGUARD_HOST_MAX 260
#define NETGUARD_OWNER_MAX 64 /* a tenant id, cut to fit */
/* getaddrinfo on a thread of its own needs little stack; not glibc's 8 MiB. */
#define NETGUARD_LOOKUP_STACK (512 * 1024)

typedef struct {
    uint32_t net;
    unsigned bits;
} netguard_v4_range;

typedef struct {
    uint8_t prefix[16];
    unsigned bits;
} netguard_v6_range;

static const netguard_v4_range netguard_v4_private[] = {
    {0x00000000u, 8},  /* 0.0.0.0/8 "this network", unspecified */
    {0x0a000000u, 8},  /* 10/8 RFC 1918 */
    {0x64400000u, 10}, /* 100.64/10 carrier-grade NAT */
    {0x7f000000u, 8},  /* 127/8 loopback */
    {0xa9fe0000u, 16}, /* 169.254/16 link-local, cloud metadata */
    {0xac100000u, 12}, /* 172.16/12 RFC 1918 */
    {0xc0000000u, 24}, /* 192.0.0/24 IETF protocol assignments */
    {0xc0000200u, 24}, /* 192.0.2/24 TEST-NET-1 */
    {0xc0586300u, 24}, /* 192.88.99/24 deprecated 6to4 relay anycast */
    {0xc0a80000u, 16}, /* 192.168/16 RFC 1918 */
    {0xc6120000u, 15}, /* 198.18/15 benchmarking */
    {0xc6336400u, 24}, /* 198.51.100/24 TEST-NET-2 */
    {0xcb007100u, 24}, /* 203.0.113/24 TEST-NET-3 */
    {0xe0000000u, 4},  /* 224/4 multicast */
    {0xf0000000u, 4},  /* 240/4 reserved, includes 255.255.255.255 */
};

/* Only ranges inside 2000::/3; everything outside it is private anyway. */
static const netguard_v6_range netguard_v6_private[] = {
    {{0x20, 0x01, 0x00, 0x00}, 32}, /* 2001::/32 Teredo */
    {{0x20, 0x01, 0x00, 0x02}, 48}, /* 2001:2::/48 benchmarking */
    {{0x20, 0x01, 0x00, 0x10}, 28}, /* 2001:10::/28 ORCHID */
    {{0x20, 0x01, 0x00, 0x20}, 28}, /* 2001:20::/28 ORCHIDv2 */
    {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* 2001:db8::/32 documentation */
    {{0x3f, 0xff, 0x00, 0x00}, 20}, /* 3fff::/20 documentation */
};

static int netguard_v4_is_private(uint32_t addr)
{
    size_t n = sizeof netguard_v4_private / sizeof netguard_v4_private[0];
    for (size_t i = 0; i < n; i++) {
        uint32_t mask = 0xffffffffu << (32 - netguard_v4_private[i].bits);
        if ((addr & mask) == netguard_v4_private[i].net)
            return 1;
    }
    return 0;
}

static uint32_t netguard_v4_at(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static int netguard_prefix_match(const uint8_t *addr, const uint8_t *prefix, unsigned bits)
{
    unsigned whole = bits / 8;
    unsigned rest = bits % 8;
    if (memcmp(addr, prefix, whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (addr[whole] & mask) == (prefix[whole] & mask);
}

static int netguard_is_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return 0;
    }
    return 1;
}

/* Forms that carry an IPv4 address in the last 32 bits: ::ffff:a.b.c.d
 * (mapped), ::a.b.c.d (compatible, which also covers :: and ::1) and
 * ::ffff:0:a.b.c.d (SIIT translated). The kernel or a translator may turn
 * any of them into a plain IPv4 connection, so they get the IPv4 verdict. */
static int netguard_embeds_v4_tail(const uint8_t *b)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    return memcmp(b, mapped, 12) == 0 || memcmp(b, translated, 12) == 0 ||
           netguard_is_zero(b, 12);
}

static int netguard_v6_is_private(const uint8_t *b)
{
    if (netguard_embeds_v4_tail(b))
        return netguard_v4_is_private(netguard_v4_at(b + 12));
    if ((b[0] & 0xe0) != 0x20)
        return 1; /* outside global unicast 2000::/3 */
    if (b[0] == 0x20 && b[1] == 0x02)
        return netguard_v4_is_private(netguard_v4_at(b + 2)); /* 6to4 */
    size_t n = sizeof netguard_v6_private / sizeof netguard_v6_private[0];
    for (size_t i = 0; i < n; i++) {
        if (netguard_prefix_match(b, netguard_v6_private[i].prefix, netguard_v6_private[i].bits))
            return 1;
    }
    return 0;
}

int rn_addr_is_private(const struct sockaddr *sa)
{
    if (sa == NULL)
        return 1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return netguard_v4_is_private(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return netguard_v6_is_private(in6->sin6_addr.s6_addr);
    }
    return 1;
}

typedef struct {
    char host[NETGUARD_HOST_MAX]; /* brackets of an IPv6 literal removed */
    char port[8];
    int v6_literal;
} netguard_parts;

/* 1 if curl_url_get finds the part at all (even empty, as in "http://@h/"). */
static int netguard_has_part(CURLU *u, CURLUPart part)
{
    char *value = NULL;
    CURLUcode rc = curl_url_get(u, part, &value, 0);
    curl_free(value);
    return rc == CURLUE_OK;
}

static rn_url_verdict netguard_scheme(CURLU *u, int allow_private)
{
    char *scheme = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        curl_free(scheme);
        return RN_URL_INVALID;
    }
    int ok = strcmp(scheme, "https") == 0 || (allow_private && strcmp(scheme, "http") == 0);
    curl_free(scheme);
    return ok ? RN_URL_OK : RN_URL_SCHEME_NOT_ALLOWED;
}

static rn_url_verdict netguard_host(CURLU *u, netguard_parts *parts)
{
    char *host = NULL;
    /* libcurl 7.88 can hand back a string together with an IDN error. */
    if (curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE) != CURLUE_OK) {
        curl_free(host);
        return RN_URL_INVALID;
    }
    size_t len = strlen(host);
    rn_url_verdict v = RN_URL_OK;
    if (len == 0 || len >= sizeof parts->host) {
        v = RN_URL_INVALID;
    } else if (host[0] == '[') {
        if (len < 3 || host[len - 1] != ']')
            v = RN_URL_INVALID;
        else
            snprintf(parts->host, sizeof parts->host, "%.*s", (int)(len - 2), host + 1);
        parts->v6_literal = 1;
    } else {
        memcpy(parts->host, host, len + 1);
    }
    curl_free(host);
    return v;
}

static rn_url_verdict netguard_port(CURLU *u, netguard_parts *parts)
{
    char *port = NULL;
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        curl_free(port);
        return RN_URL_INVALID;
    }
    char *end = NULL;
    long value = strtol(port, &end, 10);
    int ok = end != port && *end == '\0' && value >= 1 && value <= 65535;
    curl_free(port);
    if (!ok)
        return RN_URL_INVALID;
    snprintf(parts->port, sizeof parts->port, "%ld", value);
    return RN_URL_OK;
}

static rn_url_verdict netguard_parse(CURLU *u, const char *url, int allow_private,
                                     netguard_parts *parts)
{
    if (strnlen(url, RN_URL_MAX_LEN + 1) > RN_URL_MAX_LEN)
        return RN_URL_INVALID;
    /* Any scheme parses, so a wrong one is reported as such, not as junk. */
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        return RN_URL_INVALID;
    rn_url_verdict v = netguard_scheme(u, allow_private);
    if (v != RN_URL_OK)
        return v;
    if (netguard_has_part(u, CURLUPART_USER) || netguard_has_part(u, CURLUPART_PASSWORD) ||
        netguard_has_part(u, CURLUPART_OPTIONS) || netguard_has_part(u, CURLUPART_ZONEID))
        return RN_URL_INVALID;
    v = netguard_host(u, parts);
    if (v != RN_URL_OK)
        return v;
    return netguard_port(u, parts);
}

/* RFC 6761: these names are loopback by definition, whatever DNS says. */
static int netguard_is_localhost_name(const char *host)
{
    size_t len = strlen(host);
    if (len > 0 && host[len - 1] == '.')
        len--;
    static const char name[] = "localhost";
    size_t nlen = sizeof name - 1;
    if (len < nlen || strncasecmp(host + len - nlen, name, nlen) != 0)
        return 0;
    return len == nlen || host[len - nlen - 1] == '.';
}

static int netguard_write_pin(const netguard_parts *parts, const struct sockaddr *sa,
                              char *pin, size_t cap)
{
    char text[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        n = snprintf(pin, cap, "::%s:%s", text, parts->port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        n = snprintf(pin, cap, "::[%s]:%s", text, parts->port);
    }
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static rn_url_verdict netguard_judge(const struct addrinfo *list, int allow_private,
                                     const struct addrinfo **first)
{
    *first = NULL;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (!allow_private && rn_addr_is_private(ai->ai_addr))
            return RN_URL_PRIVATE_ADDRESS;
        if (*first == NULL)
            *first = ai;
    }
    return *first != NULL ? RN_URL_OK : RN_URL_UNRESOLVABLE;
}

/* ---- bounded name lookup -------------------------------------------------
 *
 * Why a thread of our own rather than getaddrinfo_a or libcurl's resolver:
 * none of them can stop a lookup that is already running, so each leaves a
 * thread behind on timeout anyway. Ours is a few lines whose ownership is
 * plain (whoever finishes last frees the job), keeps the check-then-pin
 * design unchanged, and calls a replaceable function, so a test can hang
 * the resolver on purpose. getaddrinfo_a would add a notification thread
 * per request only to free it; libcurl resolving by itself would mean
 * judging addresses one by one at connect time instead of the whole answer
 * up front. */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t finished;
    int done;      /* the lookup returned; rc and list are set */
    int abandoned; /* the caller gave up; the thread frees the job */
    int rc;
    struct addrinfo *list;
    rn_getaddrinfo_fn fn;
    struct addrinfo hints;
    char host[NETGUARD_HOST_MAX];
    char port[8];
    char owner[NETGUARD_OWNER_MAX]; /* "" when charged to no one */
} netguard_lookup;

static _Atomic(rn_getaddrinfo_fn) netguard_resolver;
static atomic_int netguard_in_flight;

/* Lookups in flight per owner: an owner has a slot while it has any. */
typedef struct {
    char owner[NETGUARD_OWNER_MAX];
    int n;
} netguard_owner_slot;

static pthread_mutex_t netguard_owners_lock = PTHREAD_MUTEX_INITIALIZER;
static netguard_owner_slot netguard_owners[RN_URL_DNS_MAX_IN_FLIGHT];

/* Charges one lookup to owner: 0, or -1 when it has its share in flight. */
static int netguard_owner_take(const char *owner)
{
    if (!owner[0])
        return 0;
    pthread_mutex_lock(&netguard_owners_lock);
    netguard_owner_slot *mine = NULL, *empty = NULL;
    for (int i = 0; i < RN_URL_DNS_MAX_IN_FLIGHT && !mine; i++) {
        netguard_owner_slot *s = &netguard_owners[i];
        if (s->n > 0 && strcmp(s->owner, owner) == 0)
            mine = s;
        else if (s->n == 0 && !empty)
            empty = s;
    }
    int rc = -1;
    if (!mine && empty) {
        mine = empty;
        snprintf(mine->owner, sizeof mine->owner, "%s", owner);
    }
    if (mine && mine->n < RN_URL_DNS_MAX_PER_OWNER) {
        mine->n++;
        rc = 0;
    }
    pthread_mutex_unlock(&netguard_owners_lock);
    return rc;
}

static void netguard_owner_give(const char *owner)
{
    if (!owner[0])
        return;
    pthread_mutex_lock(&netguard_owners_lock);
    for (int i = 0; i < RN_URL_DNS_MAX_IN_FLIGHT; i++) {
        netguard_owner_slot *s = &netguard_owners[i];
        if (s->n > 0 && strcmp(s->owner, owner) == 0) {
            s->n--;
            break;
        }
    }
    pthread_mutex_unlock(&netguard_owners_lock);
}

void rn_netguard_set_resolver(rn_getaddrinfo_fn fn)
{
    atomic_store(&netguard_resolver, fn);
}

int rn_netguard_lookups_in_flight(void)
{
    return atomic_load(&netguard_in_flight);
}

static void netguard_lookup_free(netguard_lookup *job)
{
    if (job->list != NULL)
        freeaddrinfo(job->list);
    pthread_cond_destroy(&job->finished);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

static void *netguard_lookup_main(void *arg)
{
    netguard_lookup *job = arg;
    struct addrinfo *list = NULL;
    int rc = job->fn(job->host, job->port, &job->hints, &list);
    pthread_mutex_lock(&job->lock);
    job->rc = rc;
    job->list = rc == 0 ? list : NULL;
    job->done = 1;
    int abandoned = job->abandoned;
    pthread_cond_signal(&job->finished);
    char owner[NETGUARD_OWNER_MAX];
    memcpy(owner, job->owner, sizeof owner);
    pthread_mutex_unlock(&job->lock);
    if (abandoned)
        netguard_lookup_free(job);
    netguard_owner_give(owner);
    atomic_fetch_sub(&netguard_in_flight, 1);
    return NULL;
}

static netguard_lookup *netguard_lookup_new(const char *owner, const netguard_parts *parts,
                                            const struct addrinfo *hints)
{
    netguard_lookup *job = calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    pthread_mutex_init(&job->lock, NULL);
    rn_cond_init_monotonic(&job->finished);
    rn_getaddrinfo_fn fn = atomic_load(&netguard_resolver);
    job->fn = fn != NULL ? fn : getaddrinfo;
    job->hints = *hints;
    memcpy(job->host, parts->host, sizeof job->host);
    memcpy(job->port, parts->port, sizeof job->port);
    snprintf(job->owner, sizeof job->owner, "%s", owner ? owner : "");
    return job;
}

/* Starts the lookup thread: 0, or -1 with nothing started (no share left,
 * overall or for the job's owner, or no thread). */
static int netguard_lookup_start(netguard_lookup *job)
{
    if (atomic_fetch_add(&netguard_in_flight, 1) >= RN_URL_DNS_MAX_IN_FLIGHT) {
        atomic_fetch_sub(&netguard_in_flight, 1);
        return -1;
    }
    if (netguard_owner_take(job->owner) != 0) {
        atomic_fetch_sub(&netguard_in_flight, 1);
        return -1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, NETGUARD_LOOKUP_STACK);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, netguard_lookup_main, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        netguard_owner_give(job->owner);
        atomic_fetch_sub(&netguard_in_flight, 1);
        return -1;
    }
    return 0;
}

/* Waits for the lookup until the deadline. Returns 1 when it finished (the
 * caller owns and frees the job), 0 when given up (the thread frees it). */
static int netguard_lookup_wait(netguard_lookup *job, long timeout_ms)
{
    struct timespec deadline = rn_deadline_in(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&job->lock);
    int rc = 0;
    while (!job->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&job->finished, &job->lock, &deadline);
    int done = job->done;
    if (!done)
        job->abandoned = 1;
    pthread_mutex_unlock(&job->lock);
    return done;
}

/* getaddrinfo for a name, bounded by timeout_ms. On RN_URL_OK *list is
 * the caller's (freeaddrinfo). */
static rn_url_verdict netguard_lookup_name(const char *owner, const netguard_parts *parts,
                                           const struct addrinfo *hints, long timeout_ms,
                                           struct addrinfo **list)
{
    netguard_lookup *job = netguard_lookup_new(owner, parts, hints);
    if (job == NULL)
        return RN_URL_UNRESOLVABLE;
    if (netguard_lookup_start(job) != 0) {
        netguard_lookup_free(job);
        return RN_URL_DNS_BUSY;
    }
    if (!netguard_lookup_wait(job, timeout_ms))
        return RN_URL_DNS_TIMEOUT;
    rn_url_verdict v = job->rc == 0 ? RN_URL_OK : RN_URL_UNRESOLVABLE;
    *list = job->list;
    job->list = NULL;
    netguard_lookup_free(job);
    return v;
}

/* A numeric host needs no lookup (and no thread); a name gets a bounded one. */
static rn_url_verdict netguard_addresses(const char *owner, const netguard_parts *parts,
                                         long timeout_ms, struct addrinfo **list)
{
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    *list = NULL;
    int rc = getaddrinfo(parts->host, parts->port, &hints, list);
    if (rc == 0)
        return RN_URL_OK;
    *list = NULL;
    if (rc != EAI_NONAME || parts->v6_literal)
        return RN_URL_UNRESOLVABLE;
    hints.ai_flags = AI_NUMERICSERV;
    return netguard_lookup_name(owner, parts, &hints, timeout_ms, list);
}

static rn_url_verdict netguard_resolve(const char *owner, const netguard_parts *parts,
                                       int allow_private, long timeout_ms, rn_url_target *out)
{
    struct addrinfo *list = NULL;
    rn_url_verdict v = netguard_addresses(owner, parts, timeout_ms, &list);
    if (v != RN_URL_OK)
        return v;

    const struct addrinfo *first = NULL;
    v = netguard_judge(list, allow_private, &first);
    if (v == RN_URL_OK && out != NULL) {
        memset(out, 0, sizeof *out);
        memcpy(&out->addr, first->ai_addr, first->ai_addrlen);
        out->addrlen = first->ai_addrlen;
        if (netguard_write_pin(parts, first->ai_addr, out->pin, sizeof out->pin) != 0)
            v = RN_URL_INVALID;
    }
    freeaddrinfo(list);
    return v;
}

rn_url_verdict rn_url_resolve(const char *url, int allow_private, long timeout_ms,
                              rn_url_target *out)
{
    return rn_url_resolve_as(NULL, url, allow_private, timeout_ms, out);
}

rn_url_verdict rn_url_resolve_as(const char *owner, const char *url, int allow_private,
                                 long timeout_ms, rn_url_target *out)
{
    if (url == NULL)
        return RN_URL_INVALID;
    CURLU *u = curl_url();
    if (u == NULL)
        return RN_URL_INVALID;
    netguard_parts parts = {0};
    rn_url_verdict v = netguard_parse(u, url, allow_private, &parts);
    curl_url_cleanup(u);
    if (v != RN_URL_OK)
        return v;
    if (!allow_private && netguard_is_localhost_name(parts.host))
        return RN_URL_PRIVATE_ADDRESS;
    if (timeout_ms <= 0)
        timeout_ms = RN_URL_DNS_DEFAULT_TIMEOUT_MS;
    return netguard_resolve(owner, &parts, allow_private, timeout_ms, out);
}

rn_url_verdict rn_url_check(const char *url, int allow_private, long timeout_ms, char *pin,
                            size_t pincap)
{
    return rn_url_check_as(NULL, url, allow_private, timeout_ms, pin, pincap);
}

rn_url_verdict rn_url_check_as(const char *owner, const char *url, int allow_private,
                               long timeout_ms, char *pin, size_t pincap)
{
    rn_url_target target;
    rn_url_verdict v = rn_url_resolve_as(owner, url, allow_private, timeout_ms, &target);
    if (v != RN_URL_OK || pin == NULL)
        return v;
    size_t len = strlen(target.pin);
    if (len >= pincap)
        return RN_URL_INVALID;
    memcpy(pin, target.pin, len + 1);
    return RN_URL_OK;
}

const char *rn_url_verdict_text(rn_url_verdict v)
{
    switch (v) {
    case RN_URL_OK:
        return "ok";
    case RN_URL_INVALID:
        return "invalid URL";
    case RN_URL_SCHEME_NOT_ALLOWED:
        return "URL scheme not allowed; use https";
    case RN_URL_PRIVATE_ADDRESS:
        return "private address refused";
    case RN_URL_UNRESOLVABLE:
        return "host name does not resolve";
    case RN_URL_DNS_TIMEOUT:
        return "dns timeout";
    case RN_URL_DNS_BUSY:
        return "too many dns lookups in progress";
    }
    return "invalid URL";
}
