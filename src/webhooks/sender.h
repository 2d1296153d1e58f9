/*
 * sender: one webhook delivery attempt over HTTP(S), plus the signature.
 *
 * The sender knows nothing about events, retries or the delivery log; it
 * checks the destination with netguard, POSTs one body and reports what
 * happened. Scheduling and persistence live in the dispatcher.
 *
 * Thread-safety: every function may be called from any thread; a curl easy
 * handle passed in must be used by one thread at a time. libcurl and
 * libsodium are initialised once, on first use, under pthread_once.
 */
#ifndef RN_WEBHOOKS_SENDER_H
#define RN_WEBHOOKS_SENDER_H

#include <stddef.h>

/* Bytes of the response body kept in rn_send_result.body (SPEC §8). */
#define RN_SEND_BODY_KEEP 2048

/* Timeout used when the caller passes timeout_ms <= 0 (SPEC §8: 10 s). */
#define RN_SEND_DEFAULT_TIMEOUT_MS 10000L

/* Room needed by rn_webhook_signature: "sha256=" + 64 hex + NUL. */
#define RN_SIGNATURE_LEN 72

typedef struct {
    long http_status;   /* 0 when no HTTP response was received */
    long duration_ms;   /* whole attempt, URL check and DNS included */
    char error[200];    /* "" on success, else short text safe to show a tenant */
    char *body;         /* first RN_SEND_BODY_KEEP bytes of the response body,
                           NUL-terminated, malloc'd; NULL when none arrived */
    long retry_after_s; /* Retry-After on a 429/503 (delta seconds or HTTP-date,
                           capped at 2^31-1), else -1 */
} rn_send_result;

/*
 * POSTs body (len bytes) to url with "Content-Type: application/json" and
 * extra_headers (NULL-terminated array of "Name: value", may be NULL; an
 * entry containing CR or LF fails the attempt before anything is sent).
 *
 * The url is checked with rn_url_resolve first; the connection is pinned to
 * the checked address (CURLOPT_CONNECT_TO, which also keeps libcurl from
 * reusing a connection to any other address), CURLOPT_OPENSOCKETFUNCTION
 * refuses any other new peer and CURLOPT_PREREQFUNCTION any other peer of a
 * reused connection. Redirects are not followed, proxies from the
 * environment are ignored, only http/https are spoken (only https unless
 * allow_private). timeout_ms bounds the whole attempt, name lookup
 * included (<= 0 means RN_SEND_DEFAULT_TIMEOUT_MS). The response body is
 * read to the end, keeping only the first RN_SEND_BODY_KEEP bytes.
 *
 * curl: an easy handle to reuse (keeps its connection cache; the handle's
 * options are reset on entry) or NULL for a temporary one.
 * Success means the transfer completed and the status was 2xx: returns 0.
 * Otherwise returns -1 and out->error says why, e.g. "HTTP 500",
 * "timeout after 10000 ms", "dns timeout after 10000 ms",
 * "connection refused", "private address refused".
 * `out` is always filled (when not NULL); free it with rn_send_result_free.
 */
int rn_webhook_send(void *curl, const char *url, int allow_private, const char *body, size_t len,
                    const char *const *extra_headers, long timeout_ms, rn_send_result *out);
/* The same with the name lookup charged to owner (a tenant id), so one
 * tenant's unanswered names cannot use up every tenant's lookups
 * (RN_URL_DNS_MAX_PER_OWNER in netguard.h). */
int rn_webhook_send_as(const char *owner, void *curl, const char *url, int allow_private,
                       const char *body, size_t len, const char *const *extra_headers,
                       long timeout_ms, rn_send_result *out);

/* Frees out->body and sets it to NULL. Safe on NULL and on a freed result. */
void rn_send_result_free(rn_send_result *r);

/*
 * Writes "sha256=<64 lowercase hex>" of HMAC-SHA256(secret, "<timestamp>.<body>")
 * into out. cap must be >= RN_SIGNATURE_LEN; with less, out becomes "" (when
 * cap > 0). Keys of any length are used as given (HMAC hashes long keys).
 */
void rn_webhook_signature(const char *secret, long long timestamp, const char *body, size_t len,
                          char *out, size_t cap);

#endif
