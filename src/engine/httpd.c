#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../base/cursor.h"
#include "../base/limits.h"

struct httpd {
    struct MHD_Daemon *d;
    httpd_handler handler;
    void *ctx;
    uint16_t port;
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

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             struct buf *body)
{
    size_t len = body->len;
    char *data = buf_detach(body, NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, data, data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result q = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    struct httpd *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        struct buf b = BUF_INIT(256);
        buf_puts(&b, "only GET and HEAD\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", &b);
    }
    struct httpd_response resp = {.status = 404, .content_type = "text/plain; charset=utf-8"};
    buf_init(&resp.body, CAP_OUTPUT);
    h->handler(h->ctx, url, &resp);
    enum MHD_Result q = reply(c, resp.status, resp.content_type, &resp.body);
    buf_release(&resp.body);
    return q;
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
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
                            max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            max_connections, MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_END);
    if (!h->d) {
        *ret_err = errno ? -errno : -EADDRINUSE;
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
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
    MHD_stop_daemon(h->d);
    free(h);
}
