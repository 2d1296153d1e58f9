/*
 * sender: one webhook POST, pinned to the address netguard checked.
 *
 * Three guards keep a delivery out of private space. CURLOPT_CONNECT_TO
 * makes libcurl connect to the address we judged instead of resolving the
 * name again (a second lookup could answer differently: DNS rebinding), and
 * because libcurl reuses a cached connection only for the same connect-to
 * host, a keep-alive connection to an earlier answer is never reused. The
 * open-socket callback refuses any new peer other than that address, and
 * the pre-request callback refuses a connection, new or reused, whose peer
 * is not that address, so a libcurl quirk fails closed instead of sending.
 *
 * The timeout bounds the whole attempt: the name lookup gets all of it and
 * the transfer gets what the lookup left.
 */
#include "webhooks/sender.h"

#include "webhooks/netguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef RN_VERSION
#define RN_VERSION "dev"
#endif

#define SENDER_RETRY_AFTER_MAX 2147483647L

typedef struct {
    const char *owner; /* the tenant the name lookup is charged to, or NULL */
    const char *url;
    int allow_private;
    const char *body;
    size_t len;
    const char *const *extra_headers;
    long timeout_ms; /* already defaulted: the whole attempt */
    long budget_ms;  /* what is left of it for the transfer */
} sender_request;

typedef struct {
    rn_send_result *out;
    const rn_url_target *target;
    int allow_private;
    size_t kept;
    int peer_refused;
} sender_ctx;

typedef struct {
    CURLcode code;
    const char *text;
} sender_error_text;

static const sender_error_text sender_errors[] = {
    {CURLE_COULDNT_RESOLVE_HOST, "host name does not resolve"},
    {CURLE_UNSUPPORTED_PROTOCOL, "URL scheme not allowed; use https"},
    {CURLE_SSL_CONNECT_ERROR, "TLS handshake failed"},
    {CURLE_PEER_FAILED_VERIFICATION, "TLS certificate verification failed"},
    {CURLE_SSL_CACERT_BADFILE, "TLS certificate verification failed"},
    {CURLE_GOT_NOTHING, "empty reply from server"},
    {CURLE_SEND_ERROR, "connection lost while sending"},
    {CURLE_RECV_ERROR, "connection lost while receiving"},
    {CURLE_WEIRD_SERVER_REPLY, "invalid HTTP response"},
    {CURLE_HTTP2, "invalid HTTP response"},
    {CURLE_HTTP2_STREAM, "invalid HTTP response"},
    {CURLE_PARTIAL_FILE, "response body cut short"},
    {CURLE_OUT_OF_MEMORY, "internal error"},
};

static pthread_once_t sender_once = PTHREAD_ONCE_INIT;
static int sender_ready;

static void sender_init(void)
{
    /* Both tolerate other modules initialising them as well. */
    sender_ready = sodium_init() >= 0 && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static int sender_init_once(void)
{
    pthread_once(&sender_once, sender_init);
    return sender_ready;
}

static long sender_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t sender_on_body(char *data, size_t size, size_t nmemb, void *user)
{
    sender_ctx *ctx = user;
    size_t n = size * nmemb;
    if (ctx->kept >= RN_SEND_BODY_KEEP)
        return n; /* read and drop the rest so the connection stays usable */
    if (ctx->out->body == NULL) {
        ctx->out->body = malloc(RN_SEND_BODY_KEEP + 1);
        if (ctx->out->body == NULL)
            return n;
    }
    size_t take = n < RN_SEND_BODY_KEEP - ctx->kept ? n : RN_SEND_BODY_KEEP - ctx->kept;
    memcpy(ctx->out->body + ctx->kept, data, take);
    ctx->kept += take;
    ctx->out->body[ctx->kept] = '\0';
    return n;
}

static int sender_same_peer(const struct sockaddr_storage *want, const struct sockaddr *got)
{
    if (want->ss_family != got->sa_family)
        return 0;
    if (got->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)want;
        const struct sockaddr_in *b = (const struct sockaddr_in *)got;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    if (got->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)want;
        const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)got;
        return a->sin6_port == b->sin6_port &&
               memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
    }
    return 0;
}

static curl_socket_t sender_open_socket(void *user, curlsocktype purpose,
                                        struct curl_sockaddr *address)
{
    sender_ctx *ctx = user;
    const struct sockaddr *peer = &address->addr;
    int allowed = purpose == CURLSOCKTYPE_IPCXN && sender_same_peer(&ctx->target->addr, peer) &&
                  (ctx->allow_private || !rn_addr_is_private(peer));
    if (!allowed) {
        ctx->peer_refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* Runs on every connection, new or reused, before the request is sent. */
static int sender_prereq(void *user, char *peer_ip, char *local_ip, int peer_port,
                         int local_port)
{
    (void)local_ip;
    (void)local_port;
    sender_ctx *ctx = user;
    struct sockaddr_storage peer = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&peer;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&peer;
    if (inet_pton(AF_INET, peer_ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)peer_port);
    } else if (inet_pton(AF_INET6, peer_ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)peer_port);
    }
    if (peer.ss_family != 0 && sender_same_peer(&ctx->target->addr, (struct sockaddr *)&peer))
        return CURL_PREREQFUNC_OK;
    ctx->peer_refused = 1;
    return CURL_PREREQFUNC_ABORT;
}

/* Header injection guard: the dispatcher builds these, but a CR or LF in
 * one would let a value smuggle extra headers or a second request. */
static int sender_headers_valid(const char *const *headers)
{
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        if (strpbrk(headers[i], "\r\n") != NULL || strchr(headers[i], ':') == NULL)
            return 0;
    }
    return 1;
}

/* Appends to *list; on failure frees the whole list and leaves it NULL. */
static int sender_append(struct curl_slist **list, const char *header)
{
    struct curl_slist *head = curl_slist_append(*list, header);
    if (head == NULL) {
        curl_slist_free_all(*list);
        *list = NULL;
        return -1;
    }
    *list = head;
    return 0;
}

static struct curl_slist *sender_header_list(const char *const *extra)
{
    struct curl_slist *list = NULL;
    if (sender_append(&list, "Content-Type: application/json") != 0)
        return NULL;
    /* No "Expect: 100-continue" round trip for large bodies. */
    if (sender_append(&list, "Expect:") != 0)
        return NULL;
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        if (sender_append(&list, extra[i]) != 0)
            return NULL;
    }
    return list;
}

static long sender_parse_retry_after(const char *value)
{
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p >= '0' && *p <= '9') {
        long seconds = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            seconds = seconds * 10 + (*p - '0');
            if (seconds > SENDER_RETRY_AFTER_MAX)
                return SENDER_RETRY_AFTER_MAX;
        }
        return (*p == '\0' || *p == ' ' || *p == '\t') ? seconds : -1;
    }
    time_t when = curl_getdate(p, NULL);
    if (when == (time_t)-1)
        return -1;
    time_t now = time(NULL);
    if (when <= now)
        return 0;
    double delta = difftime(when, now);
    return delta > (double)SENDER_RETRY_AFTER_MAX ? SENDER_RETRY_AFTER_MAX : (long)delta;
}

static long sender_retry_after(CURL *curl, long status)
{
    if (status != 429 && status != 503)
        return -1;
    struct curl_header *h = NULL;
    if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return -1;
    return sender_parse_retry_after(h->value);
}

static const char *sender_connect_failure(CURL *curl, const sender_ctx *ctx)
{
    if (ctx->peer_refused)
        return "connection to an unchecked address refused";
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno == ECONNREFUSED)
        return "connection refused";
    if (os_errno == EHOSTUNREACH)
        return "host unreachable";
    if (os_errno == ENETUNREACH)
        return "network unreachable";
    return "could not connect";
}

static void sender_describe_failure(CURL *curl, CURLcode rc, const sender_ctx *ctx,
                                    long timeout_ms, char *error, size_t cap)
{
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(error, cap, "timeout after %ld ms", timeout_ms);
        return;
    }
    if (rc == CURLE_COULDNT_CONNECT || (rc == CURLE_ABORTED_BY_CALLBACK && ctx->peer_refused)) {
        snprintf(error, cap, "%s", sender_connect_failure(curl, ctx));
        return;
    }
    for (size_t i = 0; i < sizeof sender_errors / sizeof sender_errors[0]; i++) {
        if (sender_errors[i].code == rc) {
            snprintf(error, cap, "%s", sender_errors[i].text);
            return;
        }
    }
    snprintf(error, cap, "%s", curl_easy_strerror(rc));
}

static void sender_set_options(CURL *curl, const sender_request *req, sender_ctx *ctx)
{
    const char *body = req->body != NULL ? req->body : "";
    curl_off_t len = req->body != NULL ? (curl_off_t)req->len : 0;
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, req->allow_private ? "http,https" : "https");
    curl_easy_setopt(curl, CURLOPT_DISALLOW_USERNAME_IN_URL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->budget_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->budget_ms);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "Ringnity-Webhooks/" RN_VERSION);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sender_on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, ctx);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, sender_open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, ctx);
    curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, sender_prereq);
    curl_easy_setopt(curl, CURLOPT_PREREQDATA, ctx);
}

static int sender_fail(rn_send_result *out, const char *text)
{
    snprintf(out->error, sizeof out->error, "%s", text);
    return -1;
}

static int sender_outcome(CURL *curl, CURLcode rc, const sender_ctx *ctx,
                          const sender_request *req, rn_send_result *out)
{
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->http_status);
    out->retry_after_s = sender_retry_after(curl, out->http_status);
    if (rc != CURLE_OK) {
        sender_describe_failure(curl, rc, ctx, req->timeout_ms, out->error, sizeof out->error);
        return -1;
    }
    if (out->http_status < 200 || out->http_status > 299) {
        snprintf(out->error, sizeof out->error, "HTTP %ld", out->http_status);
        return -1;
    }
    return 0;
}

/* Runs the transfer on a prepared handle and fills `out`. */
static int sender_perform(CURL *curl, const sender_request *req, const rn_url_target *target,
                          rn_send_result *out)
{
    sender_ctx ctx = {.out = out, .target = target, .allow_private = req->allow_private};
    struct curl_slist *headers = sender_header_list(req->extra_headers);
    struct curl_slist *connect_to = curl_slist_append(NULL, target->pin);
    int result = -1;
    if (headers == NULL || connect_to == NULL) {
        sender_fail(out, "internal error");
        goto cleanup;
    }

    sender_set_options(curl, req, &ctx);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
    CURLcode rc = curl_easy_perform(curl);
    result = sender_outcome(curl, rc, &ctx, req, out);

    /* The handle still points at our lists and stack context; drop those
     * options (connections and the DNS cache survive a reset). */
    curl_easy_reset(curl);
cleanup:
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    return result;
}

/* Checks the URL within the attempt's budget; 0, or -1 with out->error. */
static int sender_check(sender_request *req, long started, rn_url_target *target,
                        rn_send_result *out)
{
    rn_url_verdict verdict =
        rn_url_resolve_as(req->owner, req->url, req->allow_private, req->timeout_ms, target);
    if (verdict == RN_URL_DNS_TIMEOUT) {
        snprintf(out->error, sizeof out->error, "dns timeout after %ld ms", req->timeout_ms);
        return -1;
    }
    if (verdict != RN_URL_OK)
        return sender_fail(out, rn_url_verdict_text(verdict));
    req->budget_ms = req->timeout_ms - (sender_now_ms() - started);
    if (req->budget_ms <= 0) {
        snprintf(out->error, sizeof out->error, "timeout after %ld ms", req->timeout_ms);
        return -1;
    }
    return 0;
}

static int sender_attempt(void *curl, sender_request *req, long started, rn_send_result *out)
{
    if (!sender_init_once())
        return sender_fail(out, "internal error");
    if (!sender_headers_valid(req->extra_headers))
        return sender_fail(out, "invalid header");

    rn_url_target target;
    if (sender_check(req, started, &target, out) != 0)
        return -1;

    CURL *handle = curl != NULL ? curl : curl_easy_init();
    if (handle == NULL)
        return sender_fail(out, "internal error");
    if (curl != NULL)
        curl_easy_reset(handle);
    int result = sender_perform(handle, req, &target, out);
    if (curl == NULL)
        curl_easy_cleanup(handle);
    return result;
}

int rn_webhook_send(void *curl, const char *url, int allow_private, const char *body, size_t len,
                    const char *const *extra_headers, long timeout_ms, rn_send_result *out)
{
    return rn_webhook_send_as(NULL, curl, url, allow_private, body, len, extra_headers,
                              timeout_ms, out);
}

int rn_webhook_send_as(const char *owner, void *curl, const char *url, int allow_private,
                       const char *body, size_t len, const char *const *extra_headers,
                       long timeout_ms, rn_send_result *out)
{
    sender_request req = {
        .owner = owner,
        .url = url,
        .allow_private = allow_private,
        .body = body,
        .len = len,
        .extra_headers = extra_headers,
        .timeout_ms = timeout_ms > 0 ? timeout_ms : RN_SEND_DEFAULT_TIMEOUT_MS,
    };
    rn_send_result scratch;
    rn_send_result *res = out != NULL ? out : &scratch;
    memset(res, 0, sizeof *res);
    res->retry_after_s = -1;

    long started = sender_now_ms();
    int result = sender_attempt(curl, &req, started, res);
    res->duration_ms = sender_now_ms() - started;
    if (out == NULL)
        rn_send_result_free(&scratch);
    return result;
}

void rn_send_result_free(rn_send_result *r)
{
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
}

void rn_webhook_signature(const char *secret, long long timestamp, const char *body, size_t len,
                          char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return;
    out[0] = '\0';
    if (cap < RN_SIGNATURE_LEN || secret == NULL)
        return;
    sender_init_once();

    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "%lld.", timestamp);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)prefix, (unsigned long long)plen);
    if (body != NULL)
        crypto_auth_hmacsha256_update(&state, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(&state, sizeof state);

    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, cap - 7, mac, sizeof mac);
}
