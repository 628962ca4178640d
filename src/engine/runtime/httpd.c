/*
 * The HTTP/1.1 responder: one thread with its own event loop, non-blocking sockets, a fixed
 * request-head buffer per connection, and deadlines on everything a client can stall.
 *
 * What it does not do, on purpose: request bodies (a request with one gets its answer and the
 * connection closes), chunked or compressed responses, TLS, HTTP/2. Put a proxy in front for
 * those; Prometheus scrapes plain HTTP/1.1 with keep-alive, which is what this serves.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/cursor.h"
#include "base/limits.h"
#include "httpreq.h"
#include "loop.h"

/* After the last response on a connection, how long its unread input is drained before the
 * close: closing with unread bytes makes the kernel send a reset, which can destroy the response
 * before the client read it. */
#define LINGER_MS 2000
/* accept() failed for lack of descriptors, or a newcomer was refused: accept again after this
 * long. Meanwhile new connections wait in the listen backlog; a refused client that reconnects
 * at once is thus refused at most once per pause instead of in a loop as fast as both can go. */
#define ACCEPT_RETRY_MS 100
/* An answer the client has not taken a byte of for this long is stalled: its slot may go to a
 * newcomer when the slots run out. */
#define STALL_MS 1000

enum conn_state { CONN_READING, CONN_WRITING, CONN_LINGERING };

/* A client address (IPv4, or IPv6; a v4-mapped address counts as its IPv4 one). */
struct peer {
    uint8_t a[16];
};

struct conn {
    struct httpd *h;
    int fd;
    struct loop_source *src;
    struct conn *prev, *next;
    struct peer peer;
    uint64_t since_ms; /* accepted, or its last answer sent: how long it has been waiting */
    uint64_t progress_ms; /* the last byte the client took of an answer */
    enum conn_state state;
    bool close_after;
    bool eof; /* the client has shut down its side: answer what it sent, then close */
    uint64_t deadline_ms;
    char head[512]; /* the response's status line and header fields */
    size_t head_len;
    struct buf body;
    size_t sent; /* of head + body */
    size_t in_len;
    char in[HTTP_HEAD_MAX];
};

struct httpd {
    struct loop *loop;
    pthread_t thread;
    bool thread_started;
    int listen_fd, stop_fd;
    struct loop_source *listen_src, *timer;
    bool accepting;
    uint64_t accept_retry_ms; /* 0 unless accept() is paused for lack of descriptors */
    unsigned max_conns, nconns;
    /* connections per client address: open addressing, 2 * max_conns slots, count 0 = free */
    struct peer_count {
        struct peer peer;
        unsigned n;
    } *peers;
    size_t npeer_slots;
    unsigned npeers; /* addresses with a connection */
    uint64_t timeout_ms;
    struct conn *conns;
    httpd_handler handler;
    void *ctx;
    uint16_t port;
    char path[HTTP_HEAD_MAX]; /* the request path, NUL-terminated for the handler */
};

int httpd_parse_listen(const char *s, struct sockaddr_storage *ret, unsigned *ret_len)
{
    memset(ret, 0, sizeof(*ret));
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -EINVAL;
    uint64_t port;
    if (parse_u64(colon + 1, &port) < 0 || port > 65535)
        return -EINVAL;
    size_t hostlen = (size_t)(colon - s);
    char host[64];
    if (hostlen >= sizeof(host))
        return -EINVAL;
    memcpy(host, s, hostlen);
    host[hostlen] = '\0';
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']')
            return -EINVAL;
        host[n - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return -EINVAL;
        *ret_len = sizeof(*a);
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ret;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (host[0] == '\0')
        a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return -EINVAL;
    *ret_len = sizeof(*a);
    return 0;
}

static const char *reason(unsigned status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* ---- deadlines and accepting ---- */

static void rearm(struct httpd *h)
{
    uint64_t next = h->accept_retry_ms;
    for (struct conn *c = h->conns; c; c = c->next)
        if (!next || c->deadline_ms < next)
            next = c->deadline_ms;
    if (!next) {
        (void)loop_timer_disarm(h->timer);
        return;
    }
    uint64_t now = loop_now_ms();
    (void)loop_timer_arm(h->timer, next > now ? next - now : 1);
}

static void set_accepting(struct httpd *h, bool on)
{
    if (h->accepting == on)
        return;
    /* paused, new connections wait in the listen backlog (served once a slot frees) rather
     * than being accepted and dropped */
    if (loop_fd_events(h->loop, h->listen_src, on ? EPOLLIN : 0) == 0)
        h->accepting = on;
}

/* ---- who holds the slots ---- */

static struct peer peer_of(const struct sockaddr_storage *sa)
{
    struct peer p = {0};
    if (sa->ss_family == AF_INET) {
        /* as the v4-mapped IPv6 address: one key for a client on either socket family */
        p.a[10] = p.a[11] = 0xff;
        memcpy(&p.a[12], &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->ss_family == AF_INET6) {
        memcpy(p.a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
    return p;
}

static size_t peer_hash(const struct peer *p, size_t nslots)
{
    uint64_t x = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < sizeof(p->a); i++)
        x = (x ^ p->a[i]) * 1099511628211ull;
    return (size_t)x & (nslots - 1);
}

/* The slot of an address: its own, or the free slot it would take (the table never fills: it
 * has twice as many slots as there can be connections). */
static struct peer_count *peer_count(struct httpd *h, const struct peer *p)
{
    size_t i = peer_hash(p, h->npeer_slots);
    while (h->peers[i].n && memcmp(&h->peers[i].peer, p, sizeof(*p)) != 0)
        i = (i + 1) & (h->npeer_slots - 1);
    return &h->peers[i];
}

/* Removes an address whose count fell to 0, moving later entries of its probe run back. */
static void peer_forget(struct httpd *h, const struct peer *p)
{
    size_t mask = h->npeer_slots - 1, i = (size_t)(peer_count(h, p) - h->peers);
    h->npeers--;
    for (size_t j = (i + 1) & mask; h->peers[j].n; j = (j + 1) & mask) {
        size_t home = peer_hash(&h->peers[j].peer, h->npeer_slots);
        /* the entry at j may move to the hole at i when its home is not between them */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->peers[i] = h->peers[j];
            i = j;
        }
    }
    h->peers[i] = (struct peer_count){0};
}

/* Whether a new connection has already sent a whole request head (or a bad one). */
static bool sent_request(int fd)
{
    char peek[HTTP_HEAD_MAX];
    ssize_t n = recv(fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
    struct http_request req;
    return n > 0 && http_request_parse(peek, (size_t)n, &req) != HTTP_REQ_INCOMPLETE;
}

/*
 * All slots are taken and a client from `p` connects: whose slot does it get? Each address has a
 * fair share: the slots divided among the addresses connected, the newcomer's included.
 *
 * A newcomer within its share takes the slot of a connection that waits for a request, or is
 * part-way through one, or is stalled reading its answer: first those of an address past its
 * share, then the others; within each, one waiting for a request (an idle keep-alive, or a
 * client that connected and said nothing) before one in the middle of one; the oldest first.
 *
 * A newcomer past its share that has already sent its request (`active`) takes such a slot
 * from its own address only: a scrape gets in past idle or slow clients of its own address
 * too. Any other newcomer past its share gets nothing (NULL: refused): idle clients of one
 * address never take slots from each other, and flooding addresses never take turns at
 * evicting each other.
 */
static struct conn *pick_victim(struct httpd *h, const struct peer *p, bool active, uint64_t now)
{
    struct peer_count *mine = peer_count(h, p);
    unsigned addrs = h->npeers + (mine->n ? 0 : 1);
    unsigned share = h->max_conns / addrs ? h->max_conns / addrs : 1;
    bool within = mine->n + 1 <= share;
    if (!within && !active)
        return NULL;
    struct conn *best = NULL;
    int best_rank = 0;
    for (struct conn *c = h->conns; c; c = c->next) {
        bool idle = c->state == CONN_LINGERING || (c->state == CONN_READING && c->in_len == 0);
        bool slow = c->state == CONN_READING ||
                    (c->state == CONN_WRITING && now - c->progress_ms >= STALL_MS);
        if (!idle && !slow)
            continue; /* an answer on its way */
        if (!within && memcmp(&c->peer, p, sizeof(*p)) != 0)
            continue;
        int rank = (peer_count(h, &c->peer)->n > share ? 0 : 2) + (idle ? 0 : 1);
        if (!best || rank < best_rank || (rank == best_rank && c->since_ms < best->since_ms)) {
            best = c;
            best_rank = rank;
        }
    }
    return best;
}

static void conn_close(struct conn *c)
{
    struct httpd *h = c->h;
    loop_remove(h->loop, c->src);
    if (c->state == CONN_WRITING) {
        /* cut mid-response (a reader that stopped, or shutdown): reset rather than leave the
         * kernel holding and trickling megabytes to a client that does not read */
        struct linger abort_now = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof(abort_now));
    }
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    buf_release(&c->body);
    peer_count(h, &c->peer)->n--;
    if (peer_count(h, &c->peer)->n == 0)
        peer_forget(h, &c->peer);
    free(c);
    h->nconns--;
    if (!h->accept_retry_ms)
        set_accepting(h, true);
}

/* ---- responses ---- */

static void format_date(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Queues the response: `body` is taken over (and dropped for HEAD, after its length counted). */
static void queue_response(struct conn *c, unsigned status, const char *type, struct buf *body,
                           bool head_only, bool keep_alive, unsigned minor)
{
    char date[40];
    format_date(date, sizeof(date));
    c->close_after = !keep_alive;
    const char *conn_hdr = !keep_alive ? "Connection: close\r\n"
                           : minor == 0 ? "Connection: keep-alive\r\n"
                                        : "";
    int n = snprintf(c->head, sizeof(c->head),
                     "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n%s%s\r\n",
                     status, reason(status), date, type, body->len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "", conn_hdr);
    c->head_len = n > 0 && (size_t)n < sizeof(c->head) ? (size_t)n : 0;
    buf_release(&c->body);
    c->body = *body;
    buf_init(body, 0);
    if (head_only)
        buf_reset(&c->body);
    c->sent = 0;
    c->progress_ms = loop_now_ms();
    c->state = CONN_WRITING;
}

static void answer_error(struct conn *c, unsigned status, const char *why)
{
    struct buf b = BUF_INIT(CAP_MESSAGE);
    buf_printf(&b, "%s\n", why);
    queue_response(c, status, "text/plain; charset=utf-8", &b, false, false, 1);
}

/* One complete request head at the start of c->in: answer it. */
static void answer(struct conn *c, const struct http_request *req)
{
    struct httpd *h = c->h;
    if (req->method == HTTP_OTHER) {
        struct buf b = BUF_INIT(CAP_MESSAGE);
        buf_puts(&b, "only GET and HEAD\n");
        queue_response(c, 405, "text/plain; charset=utf-8", &b, false, false, req->minor);
        return;
    }
    if (req->has_body) {
        answer_error(c, 400, "a GET or HEAD request with a body");
        return;
    }
    memcpy(h->path, req->path, req->path_len);
    h->path[req->path_len] = '\0';
    struct httpd_response resp = {.status = 404, .content_type = "text/plain; charset=utf-8"};
    buf_init(&resp.body, CAP_OUTPUT);
    h->handler(h->ctx, h->path, &resp);
    queue_response(c, resp.status, resp.content_type, &resp.body, req->method == HTTP_HEAD,
                   req->keep_alive, req->minor);
    buf_release(&resp.body);
}

/* Writes what the socket takes. Returns false when the connection was closed. */
static bool flush(struct conn *c)
{
    struct httpd *h = c->h;
    while (c->sent < c->head_len + c->body.len) {
        struct iovec iov[2];
        int n = 0;
        if (c->sent < c->head_len)
            iov[n++] = (struct iovec){c->head + c->sent, c->head_len - c->sent};
        size_t boff = c->sent > c->head_len ? c->sent - c->head_len : 0;
        if (c->body.len > boff)
            iov[n++] = (struct iovec){c->body.data + boff, c->body.len - boff};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t k = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* a slow reader: it has `timeout` to take the next bytes */
            c->deadline_ms = loop_now_ms() + h->timeout_ms;
            (void)loop_fd_events(h->loop, c->src, EPOLLOUT);
            return true;
        }
        if (k <= 0) {
            conn_close(c);
            return false;
        }
        c->sent += (size_t)k;
        c->progress_ms = loop_now_ms();
    }
    buf_release(&c->body);
    c->since_ms = loop_now_ms();
    if (c->close_after) {
        shutdown(c->fd, SHUT_WR);
        c->state = CONN_LINGERING;
        c->in_len = 0;
        c->deadline_ms = loop_now_ms() + (h->timeout_ms < LINGER_MS ? h->timeout_ms : LINGER_MS);
    } else {
        c->state = CONN_READING;
        c->deadline_ms = loop_now_ms() + h->timeout_ms; /* for the next request, idle or not */
    }
    (void)loop_fd_events(h->loop, c->src, EPOLLIN);
    return true;
}

/* Answers every complete request in c->in, in order (pipelining), until one has to wait. */
static void serve(struct conn *c)
{
    while (c->state == CONN_READING) {
        struct http_request req;
        enum http_req_result r = http_request_parse(c->in, c->in_len, &req);
        if (r == HTTP_REQ_INCOMPLETE) {
            if (c->eof)
                conn_close(c); /* nothing more will come */
            return;
        }
        if (r == HTTP_REQ_BAD) {
            answer_error(c, req.error, req.why);
        } else {
            answer(c, &req);
            memmove(c->in, c->in + req.head_len, c->in_len - req.head_len);
            c->in_len -= req.head_len;
        }
        if (!flush(c))
            return;
    }
}

/* Reads what has arrived. Returns false when the connection was closed. */
static bool fill(struct conn *c)
{
    for (;;) {
        char drain[4096];
        bool lingering = c->state == CONN_LINGERING;
        char *to = lingering ? drain : c->in + c->in_len;
        size_t room = lingering ? sizeof(drain) : sizeof(c->in) - c->in_len;
        if (room == 0)
            return true; /* a full head buffer: the parser answers 431 */
        ssize_t k = recv(c->fd, to, room, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (k == 0 && !lingering && c->in_len > 0) {
            /* a client may send its request and shut down its side (`nc -N`): still answer */
            c->eof = true;
            return true;
        }
        if (k <= 0) {
            conn_close(c); /* the client is done (or gone) */
            return false;
        }
        if (!lingering)
            c->in_len += (size_t)k;
    }
}

static int on_conn(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)fd;
    struct conn *c = ctx;
    struct httpd *h = c->h;
    if (c->state == CONN_WRITING) {
        if (events & (EPOLLERR | EPOLLHUP))
            conn_close(c);
        else if (flush(c))
            serve(c);
    } else if (fill(c)) {
        serve(c);
    }
    rearm(h);
    return 0;
}

/* Closes a connection that gets no slot: a reset, so that nothing lingers on either side. */
static void refuse(int fd)
{
    struct linger abort_now = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof(abort_now));
    close(fd);
}

/* Connections are always accepted, also when every slot is taken: left in the listen backlog, a
 * scrape or a liveness probe waited behind every idle client ahead of it (200 idle clients that
 * reconnect made 3 of 10 scrapes time out); accepted, it takes the slot pick_victim() says. */
static int on_accept(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)l;
    (void)events;
    struct httpd *h = ctx;
    bool refused = false;
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        int cfd = accept4(fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the connection stays in the backlog; level-triggered epoll would report it
                 * again at once, so stop listening for a moment */
                set_accepting(h, false);
                h->accept_retry_ms = loop_now_ms() + ACCEPT_RETRY_MS;
            }
            break; /* EAGAIN, or a connection that died in the backlog (ECONNABORTED...) */
        }
        struct peer p = peer_of(&sa);
        uint64_t now = loop_now_ms();
        if (h->nconns >= h->max_conns) {
            struct conn *victim = pick_victim(h, &p, sent_request(cfd), now);
            if (!victim) {
                refuse(cfd);
                refused = true;
                continue;
            }
            conn_close(victim);
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c || loop_add_fd(h->loop, cfd, EPOLLIN, on_conn, c, &c->src) < 0) {
            free(c);
            close(cfd);
            break;
        }
        c->h = h;
        c->fd = cfd;
        c->peer = p;
        c->since_ms = now;
        c->state = CONN_READING;
        c->deadline_ms = now + h->timeout_ms; /* the whole request within it */
        buf_init(&c->body, 0);
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        h->nconns++;
        struct peer_count *pc = peer_count(h, &p);
        if (pc->n++ == 0) {
            pc->peer = p;
            h->npeers++;
        }
        /* what it sent already is read now, so that the next newcomer of this drain does not
         * take its slot for an idle one */
        if (fill(c))
            serve(c);
    }
    if (refused && !h->accept_retry_ms) {
        set_accepting(h, false);
        h->accept_retry_ms = loop_now_ms() + ACCEPT_RETRY_MS;
    }
    rearm(h);
    return 0;
}

static int on_deadline(struct loop *l, void *ctx)
{
    (void)l;
    struct httpd *h = ctx;
    uint64_t now = loop_now_ms();
    /* an idle keep-alive connection, a request that never finished, a client that stopped
     * reading, or the end of a linger: all just close */
    for (struct conn *c = h->conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline_ms <= now)
            conn_close(c);
    }
    if (h->accept_retry_ms && h->accept_retry_ms <= now) {
        h->accept_retry_ms = 0;
        set_accepting(h, true);
    }
    rearm(h);
    return 0;
}

static int on_stop(struct loop *l, int fd, uint32_t events, void *ctx)
{
    (void)fd;
    (void)events;
    (void)ctx;
    loop_quit(l, 0);
    return 0;
}

static void *server_thread(void *arg)
{
    struct httpd *h = arg;
    (void)loop_run(h->loop);
    return NULL;
}

static void free_server(struct httpd *h)
{
    while (h->conns)
        conn_close(h->conns);
    loop_free(h->loop);
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    if (h->stop_fd >= 0)
        close(h->stop_fd);
    free(h->peers);
    free(h);
}

static int open_listener(const struct sockaddr_storage *addr, unsigned addrlen,
                         unsigned timeout_seconds, uint16_t *port)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* A connection reaches accept() once its request has arrived (HTTP clients speak first);
     * one that says nothing is held by the kernel for about this long, retransmitting its
     * SYN-ACK, before it is handed over anyway. So a connection accepted has almost always
     * sent its request already (pick_victim() can tell a scrape from an idle client), and
     * clients that connect and wait never hold a slot for that time. */
    int defer = (int)timeout_seconds;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
    if (bind(fd, (const struct sockaddr *)addr, addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    return fd;
}

struct httpd *httpd_start(const char *listen, unsigned max_connections, unsigned timeout_seconds,
                          httpd_handler handler, void *ctx, int *ret_err)
{
    struct sockaddr_storage addr;
    unsigned addrlen;
    int r = httpd_parse_listen(listen, &addr, &addrlen);
    if (r < 0) {
        *ret_err = r;
        return NULL;
    }
    struct httpd *h = calloc(1, sizeof(*h));
    if (!h) {
        *ret_err = -ENOMEM;
        return NULL;
    }
    h->handler = handler;
    h->ctx = ctx;
    h->max_conns = max_connections ? max_connections : 1;
    for (h->npeer_slots = 2; h->npeer_slots < 2 * (size_t)h->max_conns;)
        h->npeer_slots *= 2;
    h->peers = calloc(h->npeer_slots, sizeof(*h->peers));
    if (!h->peers) {
        *ret_err = -ENOMEM;
        free(h);
        return NULL;
    }
    h->timeout_ms = (uint64_t)(timeout_seconds ? timeout_seconds : 1) * 1000;
    h->stop_fd = -1;
    h->listen_fd = open_listener(&addr, addrlen, timeout_seconds ? timeout_seconds : 1, &h->port);
    if (h->listen_fd < 0) {
        *ret_err = h->listen_fd;
        free_server(h);
        return NULL;
    }
    h->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (h->stop_fd < 0 || (r = loop_new(&h->loop)) < 0 ||
        (r = loop_add_fd(h->loop, h->listen_fd, EPOLLIN, on_accept, h, &h->listen_src)) < 0 ||
        (r = loop_add_fd(h->loop, h->stop_fd, EPOLLIN, on_stop, h, NULL)) < 0 ||
        (r = loop_add_timer(h->loop, 0, false, on_deadline, h, &h->timer)) < 0) {
        *ret_err = h->stop_fd < 0 ? -errno : r;
        free_server(h);
        return NULL;
    }
    h->accepting = true;
    /* every signal blocked in the server thread, so they all reach the main loop */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&h->thread, NULL, server_thread, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        *ret_err = -r;
        free_server(h);
        return NULL;
    }
    h->thread_started = true;
    return h;
}

uint16_t httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    if (h->thread_started) {
        uint64_t one = 1;
        if (write(h->stop_fd, &one, sizeof(one)) == sizeof(one))
            pthread_join(h->thread, NULL);
    }
    free_server(h);
}
