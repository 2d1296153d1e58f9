/* Unit tests for src/webhooks/sender.c against a tiny HTTP server on
 * 127.0.0.1 run in a thread of this test (canned responses, keep-alive),
 * plus known-answer tests for the signature. Nothing leaves loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "webhooks/netguard.h"
#include "webhooks/sender.h"

#include "fake_resolver.h"

/* ---- canned HTTP server ------------------------------------------------- */

#define SERVER_BUF 16384

typedef struct {
    int fd;
    int port;
    pthread_t thread;
    atomic_int stop;
    const char *response; /* NULL: read the request, never answer */
    size_t response_len;
    pthread_mutex_t lock;
    int connections;
    int requests;
    char request[SERVER_BUF];
    size_t request_len;
} test_server;

static int wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/* Reads one request (headers and Content-Length body). 1 = got one. */
static int server_read_request(test_server *s, int c, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    size_t want = 0;
    while (!atomic_load(&s->stop)) {
        if (!wait_readable(c, 50))
            continue;
        ssize_t n = read(c, buf + *len, cap - 1 - *len);
        if (n <= 0)
            return 0;
        *len += (size_t)n;
        buf[*len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL && want == 0) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t body = (cl != NULL && cl < end) ? strtoul(cl + 17, NULL, 10) : 0;
            want = (size_t)(end + 4 - buf) + body;
        }
        if (want != 0 && *len >= want)
            return 1;
        if (*len >= cap - 1)
            return 0;
    }
    return 0;
}

static void server_hold(test_server *s, int c)
{
    char sink[256];
    while (!atomic_load(&s->stop)) {
        if (wait_readable(c, 50) && read(c, sink, sizeof sink) <= 0)
            return;
    }
}

static void server_connection(test_server *s, int c)
{
    char buf[SERVER_BUF];
    size_t len;
    while (server_read_request(s, c, buf, sizeof buf, &len)) {
        pthread_mutex_lock(&s->lock);
        s->requests++;
        memcpy(s->request, buf, len + 1);
        s->request_len = len;
        pthread_mutex_unlock(&s->lock);
        if (s->response == NULL) {
            server_hold(s, c);
            return;
        }
        size_t off = 0;
        while (off < s->response_len) {
            ssize_t n = send(c, s->response + off, s->response_len - off, MSG_NOSIGNAL);
            if (n <= 0)
                return;
            off += (size_t)n;
        }
    }
}

static void *server_main(void *arg)
{
    test_server *s = arg;
    while (!atomic_load(&s->stop)) {
        if (!wait_readable(s->fd, 50))
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        s->connections++;
        pthread_mutex_unlock(&s->lock);
        server_connection(s, c);
        close(c);
    }
    return NULL;
}

/* A socket bound to 127.0.0.1 on a free port; listening when `listening`. */
static int bind_loopback(int *port, int listening)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    if (listening)
        assert_int_equal(listen(fd, 8), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* The same on ::1; -1 where the host has no IPv6 loopback. */
static int bind_loopback6(int *port)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin6_port);
    return fd;
}

static void server_run(test_server *s, const char *response, size_t response_len)
{
    s->response = response;
    s->response_len = response_len;
    atomic_init(&s->stop, 0);
    pthread_mutex_init(&s->lock, NULL);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static test_server *server_start(const char *response, size_t response_len)
{
    test_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->fd = bind_loopback(&s->port, 1);
    server_run(s, response, response_len);
    return s;
}

static void server_stop(test_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int server_connections(test_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->connections;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static int server_requests(test_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void url_for(char *url, size_t cap, const char *scheme_host, int port, const char *path)
{
    snprintf(url, cap, "%s:%d%s", scheme_host, port, path);
}

#define CANNED(text) text, sizeof(text) - 1

static const char BODY[] = "{\"id\":\"evt_01\",\"type\":\"contact.created\"}";

/* Posts BODY to the server on 127.0.0.1 with a fresh handle, private
 * addresses allowed; returns what rn_webhook_send returns. */
static int send_local(test_server *s, const char *path, int timeout_ms, rn_send_result *r)
{
    char url[128];
    url_for(url, sizeof url, "http://127.0.0.1", s->port, path);
    return rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), NULL, timeout_ms, r);
}

/* One POST to a server that answers `response`, stopped before returning. */
static int send_canned(const char *response, size_t response_len, rn_send_result *r)
{
    test_server *s = server_start(response, response_len);
    int rc = send_local(s, "/", 5000, r);
    server_stop(s);
    return rc;
}

/* ---- sender ------------------------------------------------------------- */

static void test_200_keeps_first_2048_bytes(void **state)
{
    (void)state;
    enum { BIG = 5000 };
    static char response[BIG + 200];
    int head = snprintf(response, sizeof response,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
                        BIG);
    for (int i = 0; i < BIG; i++)
        response[head + i] = (char)('a' + i % 26);
    test_server *s = server_start(response, (size_t)head + BIG);
    char url[128];
    url_for(url, sizeof url, "http://127.0.0.1", s->port, "/hook");
    const char *headers[] = {"X-Ringnity-Event: contact.created", "X-Ringnity-Delivery: evt_01",
                             NULL};

    rn_send_result r;
    int rc = rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), headers, 5000, &r);
    assert_int_equal(rc, 0);
    assert_int_equal(r.http_status, 200);
    assert_string_equal(r.error, "");
    assert_int_equal(r.retry_after_s, -1);
    assert_non_null(r.body);
    assert_int_equal(strlen(r.body), RN_SEND_BODY_KEEP);
    assert_memory_equal(r.body, response + head, RN_SEND_BODY_KEEP);
    assert_true(r.duration_ms >= 0 && r.duration_ms < 5000);

    const char *req = s->request;
    assert_non_null(strstr(req, "POST /hook HTTP/1.1\r\n"));
    assert_ptr_equal(strstr(req, "POST "), req);
    assert_non_null(strstr(req, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(req, "\r\nX-Ringnity-Event: contact.created\r\n"));
    assert_non_null(strstr(req, "\r\nX-Ringnity-Delivery: evt_01\r\n"));
    assert_null(strcasestr(req, "\r\nExpect:"));
    char length[64];
    snprintf(length, sizeof length, "\r\nContent-Length: %zu\r\n", strlen(BODY));
    assert_non_null(strstr(req, length));
    assert_string_equal(req + s->request_len - strlen(BODY), BODY);
    rn_send_result_free(&r);
    assert_null(r.body);
    rn_send_result_free(&r);
    server_stop(s);
}

static void test_500_is_failure(void **state)
{
    (void)state;
    static const char response[] = "HTTP/1.1 500 Internal Server Error\r\n"
                                   "Content-Length: 4\r\n\r\noops";
    rn_send_result r;
    assert_int_equal(send_canned(CANNED(response), &r), -1);
    assert_int_equal(r.http_status, 500);
    assert_string_equal(r.error, "HTTP 500");
    assert_string_equal(r.body, "oops");
    assert_int_equal(r.retry_after_s, -1);
    rn_send_result_free(&r);
}

static void test_302_is_not_followed(void **state)
{
    (void)state;
    test_server *s = server_start(CANNED("HTTP/1.1 302 Found\r\n"
                                         "Location: /elsewhere\r\nContent-Length: 0\r\n\r\n"));
    rn_send_result r;
    assert_int_equal(send_local(s, "/start", 5000, &r), -1);
    assert_int_equal(r.http_status, 302);
    assert_string_equal(r.error, "HTTP 302");
    assert_null(r.body);
    assert_int_equal(server_requests(s), 1);
    assert_non_null(strstr(s->request, "POST /start HTTP/1.1\r\n"));
    rn_send_result_free(&r);
    server_stop(s);
}

static void test_503_retry_after_seconds(void **state)
{
    (void)state;
    static const char response[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                   "Retry-After: 7\r\nContent-Length: 0\r\n\r\n";
    rn_send_result r;
    assert_int_equal(send_canned(CANNED(response), &r), -1);
    assert_int_equal(r.http_status, 503);
    assert_string_equal(r.error, "HTTP 503");
    assert_int_equal(r.retry_after_s, 7);
    rn_send_result_free(&r);
}

static void test_429_retry_after_past_date_is_zero(void **state)
{
    (void)state;
    static const char response[] = "HTTP/1.1 429 Too Many Requests\r\n"
                                   "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                                   "Content-Length: 0\r\n\r\n";
    rn_send_result r;
    assert_int_equal(send_canned(CANNED(response), &r), -1);
    assert_int_equal(r.http_status, 429);
    assert_string_equal(r.error, "HTTP 429");
    assert_int_equal(r.retry_after_s, 0);
    rn_send_result_free(&r);
}

static void test_429_retry_after_future_date(void **state)
{
    (void)state;
    static char response[256];
    time_t when = time(NULL) + 120;
    struct tm tm;
    gmtime_r(&when, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(response, sizeof response,
                     "HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\n"
                     "Content-Length: 0\r\n\r\n",
                     date);
    rn_send_result r;
    assert_int_equal(send_canned(response, (size_t)n, &r), -1);
    assert_int_equal(r.http_status, 429);
    assert_in_range(r.retry_after_s, 115, 120);
    rn_send_result_free(&r);
}

static void test_retry_after_ignored_on_success(void **state)
{
    (void)state;
    static const char response[] = "HTTP/1.1 204 No Content\r\nRetry-After: 7\r\n\r\n";
    rn_send_result r;
    assert_int_equal(send_canned(CANNED(response), &r), 0);
    assert_int_equal(r.http_status, 204);
    assert_string_equal(r.error, "");
    assert_int_equal(r.retry_after_s, -1);
    assert_null(r.body);
    rn_send_result_free(&r);
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    test_server *s = server_start(NULL, 0);
    rn_send_result r;
    assert_int_equal(send_local(s, "/", 300, &r), -1);
    assert_int_equal(r.http_status, 0);
    assert_string_equal(r.error, "timeout after 300 ms");
    assert_null(r.body);
    assert_in_range(r.duration_ms, 250, 3000);
    assert_int_equal(server_requests(s), 1);
    rn_send_result_free(&r);
    server_stop(s);
}

static void test_connection_refused(void **state)
{
    (void)state;
    int port;
    int fd = bind_loopback(&port, 0); /* bound, never listening: connect gets RST */
    char url[128];
    url_for(url, sizeof url, "http://127.0.0.1", port, "/");
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), NULL, 5000, &r), -1);
    assert_int_equal(r.http_status, 0);
    assert_string_equal(r.error, "connection refused");
    assert_null(r.body);
    assert_in_range(r.duration_ms, 0, 4000);
    close(fd);
}

static void test_private_refused_without_connecting(void **state)
{
    (void)state;
    test_server *s = server_start(CANNED("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    static const char *const hosts[] = {"https://127.0.0.1", "https://2130706433",
                                        "https://0x7f.1", "https://[::ffff:127.0.0.1]",
                                        "https://localhost"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char url[128];
        url_for(url, sizeof url, hosts[i], s->port, "/");
        rn_send_result r;
        assert_int_equal(rn_webhook_send(NULL, url, 0, BODY, strlen(BODY), NULL, 5000, &r), -1);
        assert_int_equal(r.http_status, 0);
        assert_string_equal(r.error, "private address refused");
        assert_null(r.body);
    }
    char url[128];
    url_for(url, sizeof url, "http://127.0.0.1", s->port, "/");
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 0, BODY, strlen(BODY), NULL, 5000, &r), -1);
    assert_string_equal(r.error, "URL scheme not allowed; use https");
    assert_int_equal(server_connections(s), 0);
    server_stop(s);
}

static void test_odd_spelling_connects_to_checked_address(void **state)
{
    (void)state;
    test_server *s = server_start(CANNED("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    char url[128];
    url_for(url, sizeof url, "http://0x7f.1", s->port, "/odd");
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), NULL, 5000, &r), 0);
    assert_int_equal(r.http_status, 200);
    assert_string_equal(r.body, "ok");
    assert_non_null(strstr(s->request, "POST /odd HTTP/1.1\r\n"));
    rn_send_result_free(&r);
    server_stop(s);
}

/* An IPv6 literal gets no CURLOPT_RESOLVE pin; the socket guard alone
 * must still let the checked address through. */
static void test_ipv6_literal_loopback(void **state)
{
    (void)state;
    test_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->fd = bind_loopback6(&s->port);
    if (s->fd < 0) {
        free(s);
        skip();
    }
    server_run(s, CANNED("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6"));
    char url[128];
    url_for(url, sizeof url, "http://[::1]", s->port, "/six");
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), NULL, 5000, &r), 0);
    assert_int_equal(r.http_status, 200);
    assert_string_equal(r.body, "v6");
    rn_send_result_free(&r);
    url_for(url, sizeof url, "https://[::1]", s->port, "/six");
    assert_int_equal(rn_webhook_send(NULL, url, 0, BODY, strlen(BODY), NULL, 5000, &r), -1);
    assert_string_equal(r.error, "private address refused");
    assert_int_equal(server_connections(s), 1);
    server_stop(s);
}

static void test_reused_handle_reuses_connection(void **state)
{
    (void)state;
    test_server *s = server_start(CANNED("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    char url[128];
    url_for(url, sizeof url, "http://127.0.0.1", s->port, "/");
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    for (int i = 0; i < 3; i++) {
        rn_send_result r;
        assert_int_equal(rn_webhook_send(curl, url, 1, BODY, strlen(BODY), NULL, 5000, &r), 0);
        assert_string_equal(r.body, "ok");
        rn_send_result_free(&r);
    }
    assert_int_equal(server_connections(s), 1);
    assert_int_equal(server_requests(s), 3);
    curl_easy_cleanup(curl);
    server_stop(s);
}

/* ---- name lookups: a fake resolver stands in for DNS ---------------------- */

/* A resolver that never answers costs the attempt its timeout, no more,
 * and the attempt is a plain failure with a clear error. */
static void test_hanging_dns_fails_within_timeout(void **state)
{
    (void)state;
    test_server *s = server_start(CANNED("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    fake_dns_setup((fake_dns_plan){.hang = 1, .answer = {"127.0.0.1"}});
    char url[128];
    url_for(url, sizeof url, "http://slow.example", s->port, "/");
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), NULL, 300, &r), -1);
    assert_int_equal(r.http_status, 0);
    assert_string_equal(r.error, "dns timeout after 300 ms");
    assert_null(r.body);
    assert_in_range(r.duration_ms, 295, 1000);
    fake_dns_open_and_drain();
    assert_int_equal(server_connections(s), 0);
    server_stop(s);
}

/* The lookup and the transfer share one budget: a slow answer leaves the
 * transfer only what is left (800 + 1000 would be 1 800 ms otherwise; the
 * upper bound leaves room for a loaded machine under sanitizers). */
static void test_lookup_and_transfer_share_the_timeout(void **state)
{
    (void)state;
    test_server *s = server_start(NULL, 0);
    fake_dns_setup((fake_dns_plan){.delay_ms = 800, .answer = {"127.0.0.1"}});
    char url[128];
    url_for(url, sizeof url, "http://slow.example", s->port, "/");
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), NULL, 1000, &r), -1);
    assert_int_equal(r.http_status, 0);
    assert_string_equal(r.error, "timeout after 1000 ms");
    assert_in_range(r.duration_ms, 980, 1500);
    fake_dns_open_and_drain();
    server_stop(s);
}

/* A listening socket on addr (e.g. 127.0.0.2) and the given port. */
static test_server *server_start_at(const char *addr, int port, const char *response,
                                    size_t response_len)
{
    test_server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    s->port = port;
    server_run(s, response, response_len);
    return s;
}

/* One name, answered with 127.0.0.1, then 127.0.0.2, then 127.0.0.1 again,
 * on one keep-alive handle: the second attempt must open a connection to
 * the address it checked instead of reusing the one to the first answer;
 * the third may reuse the first connection, whose address it checked. */
static void test_reused_handle_never_reuses_another_address(void **state)
{
    (void)state;
    test_server *a = server_start(CANNED("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
    test_server *b = server_start_at("127.0.0.2", a->port,
                                     CANNED("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"));
    fake_dns_setup((fake_dns_plan){.rotate = 1, .answer = {"127.0.0.1", "127.0.0.2"}});
    char url[128];
    url_for(url, sizeof url, "http://moving.example", a->port, "/");
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    static const char *const want[] = {"a", "b", "a"};
    for (int i = 0; i < 3; i++) {
        rn_send_result r;
        assert_int_equal(rn_webhook_send(curl, url, 1, BODY, strlen(BODY), NULL, 5000, &r), 0);
        assert_string_equal(r.body, want[i]);
        rn_send_result_free(&r);
    }
    assert_int_equal(server_connections(a), 1);
    assert_int_equal(server_requests(a), 2);
    assert_int_equal(server_connections(b), 1);
    assert_int_equal(server_requests(b), 1);
    curl_easy_cleanup(curl);
    fake_dns_open_and_drain();
    server_stop(b);
    server_stop(a);
}

static void test_header_injection_refused(void **state)
{
    (void)state;
    test_server *s = server_start(CANNED("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    char url[128];
    url_for(url, sizeof url, "http://127.0.0.1", s->port, "/");
    const char *crlf[] = {"X-Ringnity-Event: a\r\nX-Evil: 1", NULL};
    const char *no_colon[] = {"X-Ringnity-Event", NULL};
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), crlf, 5000, &r), -1);
    assert_string_equal(r.error, "invalid header");
    assert_int_equal(rn_webhook_send(NULL, url, 1, BODY, strlen(BODY), no_colon, 5000, &r), -1);
    assert_string_equal(r.error, "invalid header");
    assert_int_equal(server_connections(s), 0);
    server_stop(s);
}

static void test_invalid_url_and_null_result(void **state)
{
    (void)state;
    rn_send_result r;
    assert_int_equal(rn_webhook_send(NULL, "not a url", 1, BODY, strlen(BODY), NULL, 100, &r),
                     -1);
    assert_string_equal(r.error, "invalid URL");
    assert_int_equal(r.http_status, 0);
    assert_int_equal(r.retry_after_s, -1);
    assert_int_equal(rn_webhook_send(NULL, NULL, 1, NULL, 0, NULL, 100, NULL), -1);
}

/* ---- signature ---------------------------------------------------------- */

/* Expected values computed independently with
 *   printf '%s' '<timestamp>.<body>' | openssl dgst -sha256 -hmac '<secret>' */
static void test_signature_known_answers(void **state)
{
    (void)state;
    char sig[RN_SIGNATURE_LEN];
    rn_webhook_signature("whsec_test_secret", 1781107000LL, BODY, strlen(BODY), sig, sizeof sig);
    assert_string_equal(
        sig, "sha256=ab5874ea9a4a66a4a3a419e05fcfee56fd41a1658ae41f7eee3f70aa36e5f56f");

    rn_webhook_signature("k", 0, "", 0, sig, sizeof sig);
    assert_string_equal(
        sig, "sha256=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");

    rn_webhook_signature("whsec_test_secret", -5, "x", 1, sig, sizeof sig);
    assert_string_equal(
        sig, "sha256=52920011e2d2042ba139d735a41be5a54f65ab3ba3edbe5026b667dc855672cd");

    /* a key longer than the SHA-256 block is hashed first, as HMAC requires */
    char long_key[101];
    memset(long_key, 'k', 100);
    long_key[100] = '\0';
    rn_webhook_signature(long_key, 1700000000LL, "hello", 5, sig, sizeof sig);
    assert_string_equal(
        sig, "sha256=0e8d224aefc4953ac5f6c791d5ebec57dfbc0cde3ffbdbab5ee3cad02a696eba");
}

static void test_signature_small_buffer(void **state)
{
    (void)state;
    char sig[RN_SIGNATURE_LEN];
    memset(sig, 'x', sizeof sig);
    rn_webhook_signature("k", 0, "", 0, sig, RN_SIGNATURE_LEN - 1);
    assert_string_equal(sig, "");
    memset(sig, 'x', sizeof sig);
    rn_webhook_signature(NULL, 0, "", 0, sig, sizeof sig);
    assert_string_equal(sig, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_200_keeps_first_2048_bytes),
        cmocka_unit_test(test_500_is_failure),
        cmocka_unit_test(test_302_is_not_followed),
        cmocka_unit_test(test_503_retry_after_seconds),
        cmocka_unit_test(test_429_retry_after_past_date_is_zero),
        cmocka_unit_test(test_429_retry_after_future_date),
        cmocka_unit_test(test_retry_after_ignored_on_success),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_private_refused_without_connecting),
        cmocka_unit_test(test_odd_spelling_connects_to_checked_address),
        cmocka_unit_test(test_ipv6_literal_loopback),
        cmocka_unit_test(test_reused_handle_reuses_connection),
        cmocka_unit_test(test_hanging_dns_fails_within_timeout),
        cmocka_unit_test(test_lookup_and_transfer_share_the_timeout),
        cmocka_unit_test(test_reused_handle_never_reuses_another_address),
        cmocka_unit_test(test_header_injection_refused),
        cmocka_unit_test(test_invalid_url_and_null_result),
        cmocka_unit_test(test_signature_known_answers),
        cmocka_unit_test(test_signature_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
