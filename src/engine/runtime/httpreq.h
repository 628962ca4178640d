/*
 * The head of one HTTP/1.x request, parsed strictly (RFC 9112) for an endpoint that serves three
 * GET routes: request line, header fields, and the few headers that change what we do (Host,
 * Connection, Content-Length, Transfer-Encoding). Pure: no sockets, so it is unit-tested and
 * fuzzed on its own (tests/fuzz/fuzz-httpreq).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A request head longer than this is refused with 431: a scrape's is about 200 bytes. */
#define HTTP_HEAD_MAX 8192

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
    enum http_method method;
    /* the request target up to '?' or '#' (not NUL-terminated; points into the input) */
    const char *path;
    size_t path_len;
    unsigned minor;   /* HTTP/1.<minor> */
    bool keep_alive;  /* the connection may carry another request after this one */
    bool has_body;    /* Content-Length > 0 or Transfer-Encoding: we read no bodies */
    size_t head_len;  /* bytes of input the head took, through its blank line */
    unsigned error;   /* on HTTP_REQ_BAD: the status to answer (400, 431, 505) */
    const char *why;  /* on HTTP_REQ_BAD: what was wrong, for the response body */
};

enum http_req_result { HTTP_REQ_INCOMPLETE, HTTP_REQ_OK, HTTP_REQ_BAD };

/* Parses the head at the start of `data`. INCOMPLETE until the blank line arrives (or the input
 * passes HTTP_HEAD_MAX, which is BAD with 431). Empty lines before the request line are skipped,
 * as RFC 9112 §2.2 asks. */
enum http_req_result http_request_parse(const char *data, size_t len, struct http_request *req);
