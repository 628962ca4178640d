#include "errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/limits.h"
#include "cli.h"

/* A daemon can log errors for days: keep the first few, count the rest. */
#define KEPT_MAX 16

static struct {
    const struct cli *c;
    char *msg[KEPT_MAX];
    size_t n, dropped;
    bool usage;
    bool document; /* the command wrote its document */
} kept;

static void keep(const char *msg, void *userdata)
{
    (void)userdata;
    if (kept.n == KEPT_MAX) {
        kept.dropped++;
        return;
    }
    char *s = strdup(msg);
    if (s)
        kept.msg[kept.n++] = s;
}

void cli_errors_begin(const struct cli *c)
{
    kept.c = c;
    log_set_error_sink(keep, NULL);
}

void cli_errors_add(const char *msg, bool usage)
{
    keep(msg, NULL);
    kept.usage |= usage;
}

static bool json_wanted(void)
{
    return kept.c && kept.c->json;
}

static void messages(struct json *j)
{
    json_arr_begin(j);
    for (size_t i = 0; i < kept.n; i++)
        json_str(j, kept.msg[i]);
    if (kept.dropped) {
        char s[64];
        snprintf(s, sizeof(s), "(%zu more errors not kept)", kept.dropped);
        json_str(j, s);
    }
    json_arr_end(j);
}

int cli_errors_into_document(struct buf *doc)
{
    if (!json_wanted())
        return 0;
    kept.document = true;
    if (kept.n == 0)
        return 0;
    /* the document is one object: its closing brace, and whether it has members */
    size_t end = doc->len;
    while (end > 0 && (doc->data[end - 1] == '\n' || doc->data[end - 1] == ' '))
        end--;
    if (end == 0 || doc->data[end - 1] != '}')
        return 0;
    size_t before = end - 1;
    while (before > 0 && (doc->data[before - 1] == '\n' || doc->data[before - 1] == ' '))
        before--;
    bool empty = before > 0 && doc->data[before - 1] == '{';
    /* one level down in the pretty writer's indentation */
    struct buf out = BUF_INIT(doc->max);
    int r = buf_append(&out, doc->data, before);
    if (r == 0)
        r = buf_printf(&out, "%s\n  \"errors\": [", empty ? "" : ",");
    for (size_t i = 0; r == 0 && i < kept.n; i++) {
        r = buf_printf(&out, "%s\n    \"", i ? "," : "");
        if (r == 0)
            r = json_escape_into(&out, kept.msg[i], strlen(kept.msg[i]));
        if (r == 0)
            r = buf_putc(&out, '"');
    }
    if (r == 0 && kept.dropped)
        r = buf_printf(&out, ",\n    \"(%zu more errors not kept)\"", kept.dropped);
    if (r == 0)
        r = buf_puts(&out, "\n  ]\n}\n");
    if (r == 0) {
        buf_reset(doc);
        r = buf_append(doc, out.data, out.len);
    }
    buf_release(&out);
    /* said in the document: not again at the end */
    for (size_t i = 0; r == 0 && i < kept.n; i++)
        free(kept.msg[i]);
    if (r == 0)
        kept.n = kept.dropped = 0;
    return r;
}

int cli_errors_end(int rc)
{
    if (json_wanted() && rc != EXIT_OK && !kept.document) {
        struct buf out = BUF_INIT(CAP_TEXT_BLOCK);
        struct json j;
        json_init(&j, &out, false);
        json_obj_begin(&j);
        json_kv_obj_begin(&j, "error");
        json_kv_str(&j, "command", kept.c->cmd[0] ? kept.c->cmd : NULL);
        json_kv_i64(&j, "exit_code", rc);
        json_kv_bool(&j, "usage", kept.usage);
        json_kv_str(&j, "message", kept.n ? kept.msg[0] : "failed without a message");
        json_key(&j, "messages");
        messages(&j);
        json_obj_end(&j);
        json_obj_end(&j);
        if (json_error(&j) == 0 && buf_putc(&out, '\n') == 0)
            fwrite(out.data, 1, out.len, stdout);
        buf_release(&out);
    }
    log_set_error_sink(NULL, NULL);
    for (size_t i = 0; i < kept.n; i++)
        free(kept.msg[i]);
    kept.n = kept.dropped = 0;
    return rc;
}
