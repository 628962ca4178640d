#include "httpreq.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2: the characters of a token (methods, header names, Connection options) */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool token_eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static enum http_req_result bad(struct http_request *req, unsigned status, const char *why)
{
    req->error = status;
    req->why = why;
    return HTTP_REQ_BAD;
}

/* method SP request-target SP HTTP-version, the line without its line ending */
static enum http_req_result parse_request_line(const char *p, size_t n, struct http_request *req)
{
    const char *end = p + n, *s = p;
    while (s < end && is_tchar((unsigned char)*s))
        s++;
    if (s == p || s == end || *s != ' ')
        return bad(req, 400, "the request line is not METHOD TARGET HTTP/1.x");
    /* methods are case-sensitive (RFC 9110 §9.1): "get" is some other method */
    size_t mlen = (size_t)(s - p);
    if (mlen == 3 && memcmp(p, "GET", 3) == 0)
        req->method = HTTP_GET;
    else if (mlen == 4 && memcmp(p, "HEAD", 4) == 0)
        req->method = HTTP_HEAD;
    else
        req->method = HTTP_OTHER;
    const char *t = ++s;
    while (s < end && (unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f)
        s++;
    if (s == t || s == end || *s != ' ')
        return bad(req, 400, "the request target is empty or holds a control character");
    const char *tend = s++;
    if ((size_t)(end - s) != 8 || memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9' ||
        s[6] != '.' || s[7] < '0' || s[7] > '9')
        return bad(req, 400, "the request line does not end in HTTP/1.x");
    if (s[5] != '1')
        return bad(req, 505, "only HTTP/1.x is served here");
    req->minor = (unsigned)(s[7] - '0');

    /* origin-form "/path?query"; absolute-form "http://host/path" (RFC 9112 §3.2.2 says a
     * server must accept it); "*" only means something to OPTIONS, which gets 405 */
    if (*t != '/' && *t != '*') {
        size_t skip = 0;
        if ((size_t)(tend - t) > 7 && strncasecmp(t, "http://", 7) == 0)
            skip = 7;
        else if ((size_t)(tend - t) > 8 && strncasecmp(t, "https://", 8) == 0)
            skip = 8;
        if (!skip)
            return bad(req, 400, "the request target is not a path");
        t += skip;
        while (t < tend && *t != '/' && *t != '?' && *t != '#')
            t++;
        if (t == tend || *t != '/') {
            req->path = "/";
            req->path_len = 1;
            return HTTP_REQ_OK;
        }
    }
    const char *q = t;
    while (q < tend && *q != '?' && *q != '#')
        q++;
    req->path = t;
    req->path_len = (size_t)(q - t);
    return HTTP_REQ_OK;
}

struct head_state {
    unsigned hosts;
    bool close, keep_alive_token, chunked;
    int64_t content_length; /* -1: none */
};

/* Connection: a comma-separated list of options; close and keep-alive matter */
static void parse_connection(const char *v, size_t n, struct head_state *st)
{
    const char *end = v + n;
    while (v < end) {
        while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
        const char *o = v;
        while (v < end && is_tchar((unsigned char)*v))
            v++;
        if (token_eq(o, (size_t)(v - o), "close"))
            st->close = true;
        else if (token_eq(o, (size_t)(v - o), "keep-alive"))
            st->keep_alive_token = true;
        while (v < end && *v != ',')
            v++;
    }
}

static enum http_req_result parse_field(const char *p, size_t n, struct http_request *req,
                                        struct head_state *st)
{
    if (*p == ' ' || *p == '\t')
        return bad(req, 400, "a header line is folded (obsolete line folding is refused)");
    const char *end = p + n, *s = p;
    while (s < end && is_tchar((unsigned char)*s))
        s++;
    if (s == p || s == end || *s != ':')
        return bad(req, 400, "a header line is not NAME: VALUE");
    size_t name_len = (size_t)(s - p);
    const char *v = s + 1;
    for (const char *c = v; c < end; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
            return bad(req, 400, "a header value holds a control character");
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vn = (size_t)(end - v);

    if (token_eq(p, name_len, "host")) {
        st->hosts++;
    } else if (token_eq(p, name_len, "connection")) {
        parse_connection(v, vn, st);
    } else if (token_eq(p, name_len, "transfer-encoding")) {
        st->chunked = true;
    } else if (token_eq(p, name_len, "content-length")) {
        /* 1*DIGIT only; repeated fields must agree (RFC 9112 §6.3: anything else is an
         * unrecoverable framing error) */
        if (vn == 0 || vn > 18)
            return bad(req, 400, "Content-Length is not a number");
        int64_t len = 0;
        for (size_t i = 0; i < vn; i++) {
            if (v[i] < '0' || v[i] > '9')
                return bad(req, 400, "Content-Length is not a number");
            len = len * 10 + (v[i] - '0');
        }
        if (st->content_length >= 0 && st->content_length != len)
            return bad(req, 400, "Content-Length is given twice with different values");
        st->content_length = len;
    }
    return HTTP_REQ_OK;
}

enum http_req_result http_request_parse(const char *data, size_t len, struct http_request *req)
{
    memset(req, 0, sizeof(*req));
    struct head_state st = {.content_length = -1};
    size_t pos = 0;
    bool have_request_line = false;
    for (;;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) {
            if (len >= HTTP_HEAD_MAX)
                return bad(req, 431, "the request head is longer than 8 KiB");
            return HTTP_REQ_INCOMPLETE;
        }
        size_t line_end = (size_t)(nl - data);
        size_t n = line_end - pos;
        if (n > 0 && data[line_end - 1] == '\r')
            n--; /* CRLF; a bare LF is accepted too (RFC 9112 §2.2) */
        const char *line = data + pos;
        pos = line_end + 1;
        if (pos > HTTP_HEAD_MAX)
            return bad(req, 431, "the request head is longer than 8 KiB");
        if (memchr(line, '\r', n) || memchr(line, '\0', n))
            return bad(req, 400, "a bare CR or NUL in the request head");
        if (!have_request_line) {
            if (n == 0)
                continue; /* stray line endings before a request */
            enum http_req_result r = parse_request_line(line, n, req);
            if (r != HTTP_REQ_OK)
                return r;
            have_request_line = true;
            continue;
        }
        if (n == 0)
            break; /* the blank line: the head is complete */
        enum http_req_result r = parse_field(line, n, req, &st);
        if (r != HTTP_REQ_OK)
            return r;
    }
    if (req->minor >= 1 && st.hosts != 1)
        return bad(req, 400, "an HTTP/1.1 request needs exactly one Host header");
    if (st.chunked && st.content_length >= 0)
        return bad(req, 400, "both Transfer-Encoding and Content-Length");
    req->has_body = st.chunked || st.content_length > 0;
    req->keep_alive = !st.close && !req->has_body && (req->minor >= 1 || st.keep_alive_token);
    req->head_len = pos;
    return HTTP_REQ_OK;
}
