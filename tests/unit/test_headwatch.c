/* Unit tests for http/headwatch: a connection waiting too long for its
 * request head has its socket shut down; a busy one never does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "http/headwatch.h"

/* True when the peer of `end` sees end-of-file within ms. */
static int peer_sees_eof(int end, int ms)
{
    struct pollfd p = {.fd = end, .events = POLLIN};
    if (poll(&p, 1, ms) != 1)
        return 0;
    char b;
    return read(end, &b, 1) == 0;
}

static void waiting_connections_are_cut_busy_ones_are_not(void **state)
{
    (void)state;
    int idle[2], busy[2], again[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, idle), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, busy), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, again), 0);
    rn_headwatch *w = rn_headwatch_start(300);
    assert_non_null(w);
    long long t0 = rn_mono_ms();
    rn_headwatch_conn *ci = rn_headwatch_add(w, idle[0]);
    rn_headwatch_conn *cb = rn_headwatch_add(w, busy[0]);
    rn_headwatch_conn *ca = rn_headwatch_add(w, again[0]);
    rn_headwatch_busy(cb);
    rn_headwatch_busy(ca);
    /* not before the deadline */
    assert_false(peer_sees_eof(idle[1], 200));
    /* after it: cut within the deadline plus one check (250 ms) */
    assert_true(peer_sees_eof(idle[1], 1000));
    long long took = rn_mono_ms() - t0;
    assert_in_range(took, 300, 900);
    /* busy for three deadlines: never cut */
    assert_false(peer_sees_eof(busy[1], 900));
    /* answered and waiting again: the deadline runs from then */
    rn_headwatch_idle(ca);
    assert_false(peer_sees_eof(again[1], 200));
    assert_true(peer_sees_eof(again[1], 1000));
    rn_headwatch_remove(w, ci);
    rn_headwatch_remove(w, cb);
    rn_headwatch_remove(w, ca);
    rn_headwatch_stop(w);
    for (int i = 0; i < 2; i++) {
        close(idle[i]);
        close(busy[i]);
        close(again[i]);
    }
}

static void null_connections_are_ignored(void **state)
{
    (void)state;
    rn_headwatch_busy(NULL);
    rn_headwatch_idle(NULL);
    rn_headwatch_remove(NULL, NULL);
    rn_headwatch_stop(NULL);
    assert_null(rn_headwatch_add(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waiting_connections_are_cut_busy_ones_are_not),
        cmocka_unit_test(null_connections_are_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
