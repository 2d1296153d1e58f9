/*
 * headwatch.h — a deadline for the request head.
 *
 * libmicrohttpd bounds a connection only by its idle timeout, which every
 * byte resets: a client that sends one header line a second holds a
 * connection (and a slot of the connection limit) for ever. The watch
 * gives each connection `deadline_ms` from the moment it starts waiting for
 * a request head (connected, or its previous answer sent) until the head
 * is complete; past that, its socket is shut down and libmicrohttpd closes
 * the connection. A connection that is working on a request (body, handler,
 * answer) is never cut.
 *
 * Threads: add/remove come from libmicrohttpd's connection notifications,
 * busy/idle from its request callbacks, all on its worker threads; the
 * watch runs its own thread. The socket is shut down, never closed, and
 * only while the connection is still registered: libmicrohttpd reports a
 * connection closed before it closes the descriptor.
 */
#ifndef RN_HTTP_HEADWATCH_H
#define RN_HTTP_HEADWATCH_H

typedef struct rn_headwatch rn_headwatch;
typedef struct rn_headwatch_conn rn_headwatch_conn;

/* Starts the watch thread; NULL when it cannot. */
rn_headwatch *rn_headwatch_start(long deadline_ms);
/* Stops the thread and frees the watch (connections must be removed). */
void rn_headwatch_stop(rn_headwatch *w);

/* Registers a connected socket, waiting for its first head. NULL when out
 * of memory (the connection is then simply not watched). */
rn_headwatch_conn *rn_headwatch_add(rn_headwatch *w, int fd);
void rn_headwatch_remove(rn_headwatch *w, rn_headwatch_conn *c);
/* The head is complete: the connection is working on a request. */
void rn_headwatch_busy(rn_headwatch_conn *c);
/* The answer is sent: the connection waits for its next head. */
void rn_headwatch_idle(rn_headwatch_conn *c);

#endif
