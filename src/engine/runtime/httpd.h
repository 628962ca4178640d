/*
 * The agent's HTTP endpoint: HTTP/1.1 GET/HEAD only, keep-alive and pipelining, bounded
 * connections, deadlines, and a handler that fills a buffer.
 *
 * Our own rather than libmicrohttpd: Debian's libmicrohttpd links GnuTLS and eight more
 * libraries, 2.6 MiB of the agent's 5.3 MiB resident memory for three plain-HTTP routes, where
 * the agent has to cost no more than earlyoom (bench/agent). The subset served is small and
 * strict: the request head is parsed on its own (httpreq.h), fuzzed, and every limit a client
 * could abuse (head size, time to send it, time to read the answer, connection count) is
 * enforced and tested (tests/unit/test-http.c, tests/live/agent.sh). The connection slots are
 * shared fairly among client addresses, idle and slow connections giving theirs up first, so
 * that no client's load keeps a scrape or a liveness probe out (pick_victim() in httpd.c).
 */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include "base/buf.h"

struct httpd;

struct httpd_response {
    unsigned status;          /* 200, 404, ... */
    const char *content_type; /* static string */
    struct buf body;          /* filled by the handler; freed by httpd */
};

/* Called on the server thread for every GET/HEAD request. Must fill `resp`. */
typedef void (*httpd_handler)(void *ctx, const char *path, struct httpd_response *resp);

/* Parses "127.0.0.1:10090", "[::1]:10090", "0.0.0.0:10090" or ":10090" (all addresses). */
int httpd_parse_listen(const char *s, struct sockaddr_storage *ret, unsigned *ret_len);

/*
 * Starts listening. Returns NULL and sets *ret_err (negative errno, e.g. -EADDRINUSE) on failure.
 * `max_connections` bounds concurrent connections; idle connections close after
 * `timeout_seconds`, and the kernel holds a connection that has sent nothing for about as long
 * before handing it over (TCP_DEFER_ACCEPT).
 */
struct httpd *httpd_start(const char *listen, unsigned max_connections, unsigned timeout_seconds,
                          httpd_handler handler, void *ctx, int *ret_err);
/* The port actually bound (useful with port 0 in tests). */
uint16_t httpd_port(const struct httpd *h);
void httpd_stop(struct httpd *h);
