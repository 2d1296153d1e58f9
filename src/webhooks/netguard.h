/*
 * netguard: keeps webhook deliveries out of private address space (SSRF).
 *
 * A destination URL is parsed with libcurl's own URL parser, so every odd
 * spelling ("http://2130706433/", "http://0x7f.1/", "[::ffff:127.0.0.1]")
 * is normalised exactly as libcurl will normalise it when connecting. The
 * host is then resolved once, every resolved address is judged, and the
 * address that passed is handed back so the sender can pin the connection
 * to it (CURLOPT_CONNECT_TO) instead of letting libcurl resolve again, which
 * would reopen the door to DNS rebinding.
 *
 * A name lookup is bounded by a timeout: it runs on a detached thread and
 * the caller stops waiting at the deadline (RN_URL_DNS_TIMEOUT). A lookup
 * given up on finishes in the background and frees its own memory.
 *
 * Ownership: nothing here allocates memory the caller must free. All
 * functions are thread-safe.
 */
#ifndef RN_WEBHOOKS_NETGUARD_H
#define RN_WEBHOOKS_NETGUARD_H

#include <stddef.h>
#include <netdb.h>
#include <sys/socket.h>

typedef enum {
    RN_URL_OK = 0,
    RN_URL_INVALID,
    RN_URL_SCHEME_NOT_ALLOWED,
    RN_URL_PRIVATE_ADDRESS,
    RN_URL_UNRESOLVABLE,
    RN_URL_DNS_TIMEOUT,
    RN_URL_DNS_BUSY /* too many lookups in flight (overall or for this owner) */
} rn_url_verdict;

/* Longest URL accepted; longer ones are RN_URL_INVALID. */
#define RN_URL_MAX_LEN 2048

/* Enough room for any pin: "::", "[v6 address]", ':', port. */
#define RN_URL_PIN_MAX 64

/* Lookup budget when the caller passes timeout_ms <= 0. */
#define RN_URL_DNS_DEFAULT_TIMEOUT_MS 10000L

/* Name lookups running at once (including those given up on), overall and
 * per owner (a tenant). Beyond either, a lookup is not started and the
 * verdict is RN_URL_DNS_BUSY at once: threads must not pile up, and one
 * tenant whose names never answer must not use up the lookups of all the
 * others. */
#define RN_URL_DNS_MAX_IN_FLIGHT 256
#define RN_URL_DNS_MAX_PER_OWNER 8

/*
 * Returns 1 if the address is not publicly routable, 0 if it is.
 * IPv4: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24,
 * 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24,
 * 203.0.113/24, 224/4, 240/4 (which holds 255.255.255.255).
 * IPv6: ::ffff:0:0/96 (mapped), ::/96 (compatible, also :: and ::1) and
 * ::ffff:0:0:0/96 (translated) are judged by their embedded IPv4 address;
 * 2002::/16 (6to4) likewise by the IPv4 address in bits 16..47.
 * Everything outside global unicast 2000::/3 is private (this covers
 * 64:ff9b::/96, 100::/64, fc00::/7, fec0::/10, fe80::/10, ff00::/8), and
 * inside it 2001::/32 (Teredo), 2001:2::/48, 2001:10::/28, 2001:20::/28,
 * 2001:db8::/32 and 3fff::/20 are private too.
 * NULL or a family other than AF_INET/AF_INET6 counts as private.
 */
int rn_addr_is_private(const struct sockaddr *sa);

/*
 * The outcome of a successful check, for the sender.
 * addr: the checked address with the port set, ready to compare with the
 *       peer libcurl is about to connect to.
 * pin:  a CURLOPT_CONNECT_TO entry "::address:port" ("::203.0.113.7:443",
 *       IPv6 addresses in brackets) that sends the connection for any host
 *       to the checked address. libcurl reuses a cached connection only if
 *       its connect-to host is the same, so a connection made to another
 *       address (an earlier answer for the same name) is never reused.
 */
typedef struct {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char pin[RN_URL_PIN_MAX];
} rn_url_target;

/*
 * Checks a webhook destination URL. Requires scheme https (http too when
 * allow_private), no userinfo, no IPv6 zone id, a host, a port in 1-65535.
 * "localhost" and names under ".localhost" are private without asking DNS.
 * A numeric host is judged at once; a name is resolved with getaddrinfo
 * (or the function given to rn_netguard_set_resolver) for at most
 * timeout_ms (<= 0 means RN_URL_DNS_DEFAULT_TIMEOUT_MS), after which the
 * verdict is RN_URL_DNS_TIMEOUT. If ANY address is private and
 * !allow_private the verdict is RN_URL_PRIVATE_ADDRESS. On RN_URL_OK, `out`
 * (may be NULL) describes the first resolved address.
 */
rn_url_verdict rn_url_resolve(const char *url, int allow_private, long timeout_ms,
                              rn_url_target *out);

/*
 * rn_url_resolve reduced to the pin string: on RN_URL_OK copies the pin
 * (see rn_url_target) into `pin` when pin is not NULL. A pin that does not
 * fit in pincap bytes makes the verdict RN_URL_INVALID; RN_URL_PIN_MAX
 * always fits.
 */
rn_url_verdict rn_url_check(const char *url, int allow_private, long timeout_ms, char *pin,
                            size_t pincap);

/* The same, with a lookup charged to `owner` (a tenant id; NULL charges no
 * one and only counts against the overall limit). */
rn_url_verdict rn_url_resolve_as(const char *owner, const char *url, int allow_private,
                                 long timeout_ms, rn_url_target *out);
rn_url_verdict rn_url_check_as(const char *owner, const char *url, int allow_private,
                               long timeout_ms, char *pin, size_t pincap);

/* getaddrinfo's signature. On success *res must be freeable by freeaddrinfo. */
typedef int (*rn_getaddrinfo_fn)(const char *host, const char *port,
                                 const struct addrinfo *hints, struct addrinfo **res);

/*
 * For tests: name lookups call fn instead of getaddrinfo (NULL restores
 * getaddrinfo). A lookup already started keeps the function it started with.
 */
void rn_netguard_set_resolver(rn_getaddrinfo_fn fn);

/* Name lookups running now, including those whose caller gave up. */
int rn_netguard_lookups_in_flight(void);

/* Short human text for a verdict, safe to show to a client. Never NULL. */
const char *rn_url_verdict_text(rn_url_verdict v);

#endif
