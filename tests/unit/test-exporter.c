/* The Prometheus exposition writer and the HTTP endpoint. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/prom.h"
#include "engine/httpd.h"

static void exposition_groups_families_and_escapes(void **state)
{
    (void)state;
    struct prom_registry r;
    prom_init(&r);
    int cur = prom_family(&r, "oomwarden_cgroup_memory_current_bytes", PROM_GAUGE,
                          "Memory charged to the cgroup.\nIncludes page cache \\ kernel.");
    int kills = prom_family(&r, "oomwarden_oom_kills_total", PROM_COUNTER, "OOM kills seen.");
    int unused = prom_family(&r, "oomwarden_unused", PROM_GAUGE, "never sampled");
    assert_true(cur >= 0 && kills >= 0 && unused >= 0);
    assert_int_equal(prom_family(&r, "oomwarden_oom_kills_total", PROM_COUNTER, "x"), kills);
    /* interleaved adds still render as contiguous families */
    struct prom_label a[] = {{"cgroup", "/a\"b\\c\nd"}, {"pod_uid", NULL}};
    prom_sample_u64(&r, cur, a, 2, 1024);
    struct prom_label k[] = {{"scope", "memcg"}, {"comm", "python3"}};
    prom_sample_u64(&r, kills, k, 2, 3);
    struct prom_label b[] = {{"cgroup", "/"}};
    prom_sample_u64(&r, cur, b, 1, 18446744073709551615ull);
    prom_sample_double(&r, kills, NULL, 0, 0.5);
    struct buf out = BUF_INIT(1 << 20);
    assert_int_equal(prom_render(&r, &out), 0);
    assert_string_equal(buf_cstr(&out),
                        "# HELP oomwarden_cgroup_memory_current_bytes Memory charged to the cgroup.\\n"
                        "Includes page cache \\\\ kernel.\n"
                        "# TYPE oomwarden_cgroup_memory_current_bytes gauge\n"
                        "oomwarden_cgroup_memory_current_bytes{cgroup=\"/a\\\"b\\\\c\\nd\"} 1024\n"
                        "oomwarden_cgroup_memory_current_bytes{cgroup=\"/\"} 18446744073709551615\n"
                        "# HELP oomwarden_oom_kills_total OOM kills seen.\n"
                        "# TYPE oomwarden_oom_kills_total counter\n"
                        "oomwarden_oom_kills_total{scope=\"memcg\",comm=\"python3\"} 3\n"
                        "oomwarden_oom_kills_total 0.5\n");
    buf_release(&out);
    prom_release(&r);

    prom_init(&r);
    assert_int_equal(prom_family(&r, "bad-name", PROM_GAUGE, ""), -1);
    assert_int_equal(prom_render(&r, &out), -EINVAL);
    prom_release(&r);
    assert_true(prom_valid_label_name("pod_uid"));
    assert_false(prom_valid_label_name("__reserved"));
    assert_false(prom_valid_label_name("9x"));
    assert_true(prom_valid_metric_name("a:b_c"));
}

static void handler(void *ctx, const char *path, struct httpd_response *resp)
{
    (*(int *)ctx)++;
    if (strcmp(path, "/metrics") == 0) {
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        buf_puts(&resp->body, "up 1\n");
    } else {
        buf_puts(&resp->body, "not found\n");
    }
}

static char *http(uint16_t port, const char *request)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(write(s, request, strlen(request)), (ssize_t)strlen(request));
    static char resp[8192];
    size_t n = 0;
    ssize_t k;
    while ((k = read(s, resp + n, sizeof(resp) - 1 - n)) > 0)
        n += (size_t)k;
    resp[n] = '\0';
    close(s);
    return resp;
}

static void http_routes_methods_and_garbage(void **state)
{
    (void)state;
    int calls = 0, err = 0;
    struct httpd *h = httpd_start("127.0.0.1:0", 8, 5, handler, &calls, &err);
    assert_non_null(h);
    uint16_t port = httpd_port(h);
    assert_true(port > 0);
    char *r = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 200 OK\r\n"));
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "\r\n\r\nup 1\n"));
    r = http(port, "GET /nope HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(r, " 404 "));
    r = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
    assert_non_null(strstr(r, " 405 "));
    r = http(port, "\x01\x02garbage\r\n\r\n");
    assert_null(strstr(r, " 200 "));
    assert_int_equal(calls, 2);
    /* still serving after the garbage */
    r = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, " 200 "));
    /* the same port twice: a clear error, not a crash */
    char busy[32];
    snprintf(busy, sizeof(busy), "127.0.0.1:%u", port);
    assert_null(httpd_start(busy, 8, 5, handler, &calls, &err));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exposition_groups_families_and_escapes),
        cmocka_unit_test(http_routes_methods_and_garbage),
    };
    return cmocka_run_group_tests_name("exporter", tests, NULL, NULL);
}
