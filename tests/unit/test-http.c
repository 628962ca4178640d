/* The HTTP endpoint: the request-head parser on its own, then the server over real sockets
 * (keep-alive, pipelining, HEAD, limits, timeouts, slow readers, lingering close). */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "engine/runtime/httpd.h"
#include "engine/runtime/httpreq.h"
#include "engine/runtime/loop.h"

/* ---- the parser ---- */

struct parse_case {
    const char *in;
    enum http_req_result result;
    enum http_method method;
    const char *path;
    bool keep_alive, has_body;
    unsigned error;
};

static void parser_cases(void **state)
{
    (void)state;
    static const struct parse_case cases[] = {
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/metrics", true},
        {"GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/metrics", true},
        {"HEAD / HTTP/1.0\r\n\r\n", HTTP_REQ_OK, HTTP_HEAD, "/", false},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/", true},
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, CLOSE\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/", false},
        /* stray line endings before the request, bare LFs, optional whitespace around values */
        {"\r\n\r\nGET /healthz HTTP/1.1\nhost:x \n\n", HTTP_REQ_OK, HTTP_GET, "/healthz", true},
        /* absolute-form targets (RFC 9112 §3.2.2) */
        {"GET http://node:10090/metrics?x HTTP/1.1\r\nHost: node\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/metrics", true},
        {"GET HTTP://node HTTP/1.1\r\nHost: node\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/", true},
        /* methods are case-sensitive; other methods parse, and get 405 from the server */
        {"get / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQ_OK, HTTP_OTHER, "/", true},
        {"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n", HTTP_REQ_OK, HTTP_OTHER, "/metrics", false, true},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/", false, true},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/", true, false},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_REQ_OK, HTTP_GET, "/", false, true},
        {"GET / HTTP/1.1\r\nHost: x\r\n", HTTP_REQ_INCOMPLETE},
        {"GET / HTTP/1.1", HTTP_REQ_INCOMPLETE},
        {"", HTTP_REQ_INCOMPLETE},
        {"GET / HTTP/1.1\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/2.0\r\n\r\n", HTTP_REQ_BAD, .error = 505},
        {"GET / HTTP/1.10\r\nHost: x\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GARBAGE\x01\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n", HTTP_REQ_BAD, .error = 400},
        {"GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", HTTP_REQ_BAD, .error = 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        struct http_request req;
        enum http_req_result r = http_request_parse(c->in, strlen(c->in), &req);
        if (r != c->result)
            fail_msg("case %zu (%s): result %d, want %d", i, c->in, r, c->result);
        if (r == HTTP_REQ_BAD) {
            assert_int_equal(req.error, c->error);
            assert_non_null(req.why);
        } else if (r == HTTP_REQ_OK) {
            assert_int_equal(req.method, c->method);
            assert_int_equal(req.path_len, strlen(c->path));
            assert_memory_equal(req.path, c->path, req.path_len);
            if (req.keep_alive != c->keep_alive || req.has_body != c->has_body)
                fail_msg("case %zu (%s): keep_alive %d has_body %d", i, c->in, req.keep_alive,
                         req.has_body);
            assert_int_equal(req.head_len, strlen(c->in));
        }
    }
    /* a NUL inside the request line */
    struct http_request req;
    assert_int_equal(http_request_parse("GET /\0x HTTP/1.1\r\nHost: x\r\n\r\n", 30, &req), HTTP_REQ_BAD);
}

static void parser_prefixes_pipelining_and_size(void **state)
{
    (void)state;
    struct http_request req;
    const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t first = strlen("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    /* every prefix of a good request is incomplete, never an error: the bytes may arrive one by
     * one */
    for (size_t n = 0; n < first; n++)
        assert_int_equal(http_request_parse(two, n, &req), HTTP_REQ_INCOMPLETE);
    assert_int_equal(http_request_parse(two, strlen(two), &req), HTTP_REQ_OK);
    assert_int_equal(req.head_len, first);
    assert_memory_equal(req.path, "/a", 2);
    assert_int_equal(http_request_parse(two + first, strlen(two) - first, &req), HTTP_REQ_OK);
    assert_memory_equal(req.path, "/b", 2);

    /* a head over 8 KiB: 431 whether or not its end has arrived */
    struct buf b = BUF_INIT(1 << 20);
    buf_puts(&b, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    while (b.len < HTTP_HEAD_MAX + 10)
        buf_putc(&b, 'a');
    assert_int_equal(http_request_parse(b.data, b.len, &req), HTTP_REQ_BAD);
    assert_int_equal(req.error, 431);
    buf_puts(&b, "\r\n\r\n");
    assert_int_equal(http_request_parse(b.data, b.len, &req), HTTP_REQ_BAD);
    assert_int_equal(req.error, 431);
    /* and one just under the limit is fine */
    buf_reset(&b);
    buf_puts(&b, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    while (b.len < HTTP_HEAD_MAX - 4)
        buf_putc(&b, 'a');
    buf_puts(&b, "\r\n\r\n");
    assert_int_equal(b.len, HTTP_HEAD_MAX);
    assert_int_equal(http_request_parse(b.data, b.len, &req), HTTP_REQ_OK);
    buf_release(&b);
}

/* ---- the server ---- */

static int calls;

static void handler(void *ctx, const char *path, struct httpd_response *resp)
{
    (void)ctx;
    calls++;
    if (strcmp(path, "/metrics") == 0) {
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        buf_puts(&resp->body, "up 1\n");
    } else if (strcmp(path, "/big") == 0) {
        /* 16 MiB: more than the socket buffers take (tcp_wmem's default maximum is 4 MiB) */
        resp->status = 200;
        for (int i = 0; i < 32 * 1024; i++)
            buf_puts(&resp->body, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    } else {
        buf_puts(&resp->body, "not found\n");
    }
}

/* A connection from the source address `from` (any 127.x.y.z is this machine's loopback). */
static int dial_from(uint16_t port, const char *from)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &src.sin_addr);
    assert_int_equal(bind(s, (struct sockaddr *)&src, sizeof(src)), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    return s;
}

static int dial(uint16_t port)
{
    return dial_from(port, "127.0.0.1");
}

static void send_str(int s, const char *req)
{
    ssize_t sent_n = send(s, req, strlen(req), MSG_NOSIGNAL);
    if (sent_n != (ssize_t)strlen(req))
        fail_msg("send on fd %d: %s", s, strerror(errno));
}

/* Reads until `want` bytes, the peer's close, or `ms` of silence. Returns bytes read. */
static size_t recv_some(int s, char *out, size_t cap, size_t want, int ms)
{
    size_t n = 0;
    while (n < want && n < cap) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, ms) <= 0)
            break;
        ssize_t k = recv(s, out + n, cap - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    return n;
}

/* True when the server closes the connection within `ms` (reads and discards until then). */
static bool closed_within(int s, int ms)
{
    char junk[65536];
    uint64_t end = loop_now_ms() + (uint64_t)ms;
    for (;;) {
        uint64_t now = loop_now_ms();
        if (now >= end)
            return false;
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, (int)(end - now)) <= 0)
            return false;
        ssize_t k = recv(s, junk, sizeof(junk), 0);
        if (k <= 0)
            return true;
    }
}

/* One whole response (head + Content-Length body) from a kept-alive connection. */
static char *read_response(int s)
{
    static char r[65536];
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        size_t k = recv_some(s, r + n, sizeof(r) - 1 - n, 1, 3000);
        assert_true(k > 0);
        n += k;
        r[n] = '\0';
        end = strstr(r, "\r\n\r\n");
    }
    const char *cl = strstr(r, "Content-Length: ");
    assert_non_null(cl);
    size_t body = strtoul(cl + 16, NULL, 10);
    size_t total = (size_t)(end + 4 - r) + body;
    if (n < total)
        n += recv_some(s, r + n, sizeof(r) - 1 - n, total - n, 3000);
    assert_int_equal(n, total); /* nothing beyond this response */
    r[n] = '\0';
    return r;
}

static char *http(uint16_t port, const char *request)
{
    int s = dial(port);
    send_str(s, request);
    static char resp[8192];
    size_t n = recv_some(s, resp, sizeof(resp) - 1, sizeof(resp) - 1, 3000);
    resp[n] = '\0';
    close(s);
    return resp;
}

static struct httpd *start(unsigned max, unsigned timeout)
{
    int err = 0;
    struct httpd *h = httpd_start("127.0.0.1:0", max, timeout, handler, NULL, &err);
    assert_non_null(h);
    assert_true(httpd_port(h) > 0);
    return h;
}

static void routes_methods_and_garbage(void **state)
{
    (void)state;
    calls = 0;
    struct httpd *h = start(8, 5);
    uint16_t port = httpd_port(h);
    char *r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "Content-Length: 5\r\n"));
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_non_null(strstr(r, "\r\n\r\nup 1\n"));
    r = http(port, "GET /nope HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 404 Not Found\r\n"));
    r = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
    assert_non_null(strstr(r, " 405 "));
    assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
    r = http(port, "\x01\x02garbage\r\n\r\n");
    assert_non_null(strstr(r, " 400 "));
    /* a client that shuts down its side after the request still gets the answer */
    int hc = dial(port);
    send_str(hc, "GET /metrics HTTP/1.0\r\n\r\n");
    shutdown(hc, SHUT_WR);
    char half[4096];
    size_t hn = recv_some(hc, half, sizeof(half) - 1, sizeof(half) - 1, 3000);
    half[hn] = '\0';
    assert_non_null(strstr(half, " 200 OK\r\n"));
    assert_non_null(strstr(half, "\r\n\r\nup 1\n"));
    close(hc);
    r = http(port, "GET / HTTP/3.0\r\n\r\n");
    assert_non_null(strstr(r, " 505 "));
    r = http(port, "GET /metrics HTTP/1.1\r\n\r\n"); /* no Host */
    assert_non_null(strstr(r, " 400 "));
    assert_int_equal(calls, 3);
    /* still serving after the garbage */
    r = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, " 200 "));
    /* the same port twice: a clear error, not a crash */
    char busy[32];
    int err = 0;
    snprintf(busy, sizeof(busy), "127.0.0.1:%u", port);
    assert_null(httpd_start(busy, 8, 5, handler, NULL, &err));
    assert_int_equal(err, -EADDRINUSE);
    httpd_stop(h);

    struct sockaddr_storage ss;
    unsigned len;
    assert_int_equal(httpd_parse_listen("[::1]:10090", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(httpd_parse_listen(":10090", &ss, &len), 0);
    assert_int_equal(httpd_parse_listen("localhost:10090", &ss, &len), -EINVAL);
    assert_int_equal(httpd_parse_listen("127.0.0.1:70000", &ss, &len), -EINVAL);
    assert_int_equal(httpd_parse_listen("127.0.0.1", &ss, &len), -EINVAL);
}

static void keep_alive_pipelining_and_head(void **state)
{
    (void)state;
    calls = 0;
    struct httpd *h = start(8, 5);
    int s = dial(httpd_port(h));
    /* two requests one after the other on one connection */
    send_str(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    char *r = read_response(s);
    assert_non_null(strstr(r, " 200 "));
    assert_null(strstr(r, "Connection:"));
    send_str(s, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(read_response(s), " 404 "));
    /* three in one write: answered in order */
    send_str(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(read_response(s), "\r\n\r\nup 1\n"));
    /* HEAD: the GET's length, no body (read_response would see the body bytes otherwise) */
    static char head[4096];
    size_t n = recv_some(s, head, sizeof(head) - 1, sizeof(head) - 1, 300);
    head[n] = '\0';
    assert_non_null(strstr(head, " 200 OK\r\n"));
    assert_non_null(strstr(head, "Content-Length: 5\r\n"));
    char *after = strstr(head, "\r\n\r\n") + 4;
    assert_non_null(strstr(after, " 404 ")); /* the next response follows the blank line */
    assert_true(strncmp(after, "HTTP/1.1 404", 12) == 0);
    /* HTTP/1.0 with keep-alive asked: kept, and said so */
    send_str(s, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    r = read_response(s);
    assert_non_null(strstr(r, "Connection: keep-alive\r\n"));
    send_str(s, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(read_response(s), "Connection: close\r\n"));
    assert_true(closed_within(s, 2000));
    close(s);
    assert_int_equal(calls, 7);
    httpd_stop(h);
}

static void timeouts_cut_idle_and_slow_clients(void **state)
{
    (void)state;
    struct httpd *h = start(8, 1);
    uint16_t port = httpd_port(h);
    /* silent after connecting */
    int idle = dial(port);
    uint64_t t0 = loop_now_ms();
    assert_true(closed_within(idle, 5000));
    uint64_t took = loop_now_ms() - t0;
    assert_true(took >= 900 && took < 4000); /* the 1 s timeout, with room for a busy machine */
    close(idle);
    /* a slowloris: one byte every 200 ms does not buy more time than the timeout */
    int drip = dial(port);
    t0 = loop_now_ms();
    const char *req = "GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    bool cut = false;
    for (const char *p = req; *p; p++) {
        if (send(drip, p, 1, MSG_NOSIGNAL) != 1) {
            cut = true;
            break;
        }
        struct pollfd pf = {.fd = drip, .events = POLLIN};
        if (poll(&pf, 1, 200) > 0) {
            char c;
            if (recv(drip, &c, 1, 0) <= 0) {
                cut = true;
                break;
            }
        }
    }
    took = loop_now_ms() - t0;
    assert_true(cut);
    assert_true(took < 4000); /* not the 15 s the whole drip would take */
    close(drip);
    /* a reader that stops reading a big response is cut too, and others are served meanwhile */
    int stalled = dial(port);
    send_str(stalled, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100 * 1000);
    char *r = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, " 200 "));
    sleep(2); /* past the timeout without reading */
    char buf[65536];
    size_t got = 0;
    ssize_t k;
    while ((k = recv(stalled, buf, sizeof(buf), 0)) > 0)
        got += (size_t)k;
    /* reset mid-body: what was in flight, not the 16 MiB */
    assert_true(k < 0 && errno == ECONNRESET);
    assert_true(got < 16u * 1024 * 1024);
    close(stalled);
    httpd_stop(h);
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"

/* True when the server has closed or reset the connection (within `ms`), false while it is open. */
static bool dropped_within(int s, int ms)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return false;
    char c;
    return recv(s, &c, 1, MSG_DONTWAIT) <= 0;
}

/* All slots taken by clients that wait: a request gets the slot of the one idle longest, at
 * once, instead of waiting in the listen backlog until a timeout frees one (200 idle clients
 * that reconnect made 3 of 10 scrapes time out that way). */
static void full_slots_go_to_requests(void **state)
{
    (void)state;
    struct httpd *h = start(2, 5);
    uint16_t port = httpd_port(h);
    int a = dial(port), b = dial(port);
    send_str(a, GET_METRICS);
    assert_non_null(strstr(read_response(a), " 200 "));
    usleep(20 * 1000);
    send_str(b, GET_METRICS);
    assert_non_null(strstr(read_response(b), " 200 "));
    /* both slots held by idle keep-alives of this address: a third with its request is served
     * at once, in the place of the one idle longest */
    usleep(20 * 1000);
    int c = dial(port);
    send_str(c, GET_METRICS);
    uint64_t t0 = loop_now_ms();
    assert_non_null(strstr(read_response(c), " 200 "));
    assert_true(loop_now_ms() - t0 < 1000);
    assert_true(dropped_within(a, 1000));
    assert_false(dropped_within(b, 100));
    send_str(b, GET_METRICS); /* b kept its slot and its keep-alive */
    assert_non_null(strstr(read_response(b), " 200 "));
    close(a);
    close(b);
    close(c);
    httpd_stop(h);
}

/* Each address has its share of the slots: an address holding them all gives one up to a client
 * of another address; its own further clients are refused, unless they come with their request
 * (then one of its own idle connections makes room), so that they never take turns at evicting
 * each other. A client that connects and says nothing is not even handed over by the kernel
 * before the timeout (TCP_DEFER_ACCEPT): it holds no slot meanwhile. */
static void fair_shares_per_address(void **state)
{
    (void)state;
    struct httpd *h = start(4, 5);
    uint16_t port = httpd_port(h);
    int idle[4];
    for (int i = 0; i < 4; i++) { /* four idle keep-alives of one address */
        idle[i] = dial_from(port, "127.0.0.2");
        send_str(idle[i], GET_METRICS);
        assert_non_null(strstr(read_response(idle[i]), " 200 "));
        usleep(10 * 1000);
    }
    /* silent: held by the kernel, no slot taken, nobody evicted */
    int silent = dial_from(port, "127.0.0.5");
    usleep(100 * 1000);
    for (int i = 0; i < 4; i++)
        assert_false(dropped_within(idle[i], 10));
    /* the same address, part-way through a request: refused */
    int more = dial_from(port, "127.0.0.2");
    send_str(more, "GET /metrics HTTP/1.1\r\n");
    assert_true(dropped_within(more, 1000));
    close(more);
    for (int i = 0; i < 4; i++)
        assert_false(dropped_within(idle[i], 10));
    /* the same address with its request: served, in the place of its oldest idle one */
    usleep(150 * 1000); /* past the accept pause after a refusal */
    more = dial_from(port, "127.0.0.2");
    send_str(more, GET_METRICS);
    assert_non_null(strstr(read_response(more), " 200 "));
    assert_true(dropped_within(idle[0], 1000));
    for (int i = 1; i < 4; i++)
        assert_false(dropped_within(idle[i], 10));
    /* another address: its request gets the oldest idle slot */
    int other = dial_from(port, "127.0.0.3");
    send_str(other, GET_METRICS);
    assert_non_null(strstr(read_response(other), " 200 "));
    assert_true(dropped_within(idle[1], 1000));
    /* a third address, with one of the first address's connections part-way through a
     * request: an idle one goes before it, though it is older */
    send_str(idle[2], "GET /metrics HTTP/1.1\r\n");
    usleep(20 * 1000);
    int third = dial_from(port, "127.0.0.4");
    send_str(third, GET_METRICS);
    assert_non_null(strstr(read_response(third), " 200 "));
    assert_true(dropped_within(idle[3], 1000));
    assert_false(dropped_within(more, 10));
    assert_false(dropped_within(idle[2], 10));
    for (int i = 0; i < 4; i++)
        close(idle[i]);
    close(silent);
    close(more);
    close(other);
    close(third);
    httpd_stop(h);
}

/* A reader that takes none of its answer for a second gives up its slot; one that is still
 * reading keeps it. */
static void stalled_readers_give_up_their_slot(void **state)
{
    (void)state;
    struct httpd *h = start(1, 5);
    uint16_t port = httpd_port(h);
    int big = dial(port);
    send_str(big, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(100 * 1000);
    /* the answer is on its way: a newcomer is refused rather than cutting it */
    int early = dial_from(port, "127.0.0.2");
    send_str(early, GET_METRICS);
    assert_true(dropped_within(early, 1000));
    close(early);
    usleep(1200 * 1000); /* past STALL_MS without reading */
    int late = dial_from(port, "127.0.0.2");
    send_str(late, GET_METRICS);
    assert_non_null(strstr(read_response(late), " 200 "));
    char junk[65536];
    ssize_t k;
    while ((k = recv(big, junk, sizeof(junk), 0)) > 0) {
    }
    assert_true(k < 0 && errno == ECONNRESET);
    close(big);
    close(late);
    httpd_stop(h);
}

static void body_refused_without_losing_the_answer(void **state)
{
    (void)state;
    struct httpd *h = start(8, 5);
    int s = dial(httpd_port(h));
    /* a POST with 256 KiB of body it never uses: the 405 arrives whole, and the server drains
     * the rest before closing (a close with unread input resets the connection, which can
     * destroy the answer before the client read it): every send succeeds, the end is a FIN */
    send_str(s, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n");
    char chunk[16384];
    memset(chunk, 'z', sizeof(chunk));
    int sent_ok = 0;
    for (int i = 0; i < 16; i++) {
        if (send(s, chunk, sizeof(chunk), MSG_NOSIGNAL) == (ssize_t)sizeof(chunk))
            sent_ok++;
        usleep(5000);
    }
    assert_int_equal(sent_ok, 16);
    char r[4096];
    size_t n = recv_some(s, r, sizeof(r) - 1, sizeof(r) - 1, 2000);
    r[n] = '\0';
    assert_non_null(strstr(r, " 405 "));
    assert_non_null(strstr(r, "\r\n\r\nonly GET and HEAD\n"));
    assert_int_equal(recv(s, r, sizeof(r), 0), 0); /* FIN, not ECONNRESET */
    close(s);
    /* an oversized head: 431, then closed */
    s = dial(httpd_port(h));
    send_str(s, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    for (int i = 0; i < 2; i++)
        (void)send(s, chunk, 8192, MSG_NOSIGNAL);
    n = recv_some(s, r, sizeof(r) - 1, sizeof(r) - 1, 2000);
    r[n] = '\0';
    assert_non_null(strstr(r, " 431 "));
    close(s);
    httpd_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parser_cases),
        cmocka_unit_test(parser_prefixes_pipelining_and_size),
        cmocka_unit_test(routes_methods_and_garbage),
        cmocka_unit_test(keep_alive_pipelining_and_head),
        cmocka_unit_test(timeouts_cut_idle_and_slow_clients),
        cmocka_unit_test(full_slots_go_to_requests),
        cmocka_unit_test(fair_shares_per_address),
        cmocka_unit_test(stalled_readers_give_up_their_slot),
        cmocka_unit_test(body_refused_without_losing_the_answer),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
