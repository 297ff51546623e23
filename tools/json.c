/* json.c - a small streaming JSON writer: escaping, commas and nesting done once, right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "utf8.h"

void json_init(struct json *j, FILE *out, int indent)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
    j->indent = indent;
}

static void newline(struct json *j)
{
    if (j->indent == 0)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth * j->indent; i++)
        fputc(' ', j->out);
}

/* Before any value: a comma if needed, and the line break, unless it follows a key. */
static void before_value(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (j->need_comma[j->depth])
            fputc(',', j->out);
        j->need_comma[j->depth] = true;
        newline(j);
    }
}

static void open_(struct json *j, char c)
{
    before_value(j);
    fputc(c, j->out);
    if (j->depth < 31)
        j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
    bool had = j->need_comma[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (had)
        newline(j);
    fputc(c, j->out);
}

void json_begin_object(struct json *j)
{
    open_(j, '{');
}
void json_end_object(struct json *j)
{
    close_(j, '}');
}
void json_begin_array(struct json *j)
{
    open_(j, '[');
}
void json_end_array(struct json *j)
{
    close_(j, ']');
}

static void write_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', out);
    while (*p) {
        size_t n;
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            p++;
            continue;
        case '\\':
            fputs("\\\\", out);
            p++;
            continue;
        case '\n':
            fputs("\\n", out);
            p++;
            continue;
        case '\t':
            fputs("\\t", out);
            p++;
            continue;
        case '\r':
            fputs("\\r", out);
            p++;
            continue;
        default:
            break;
        }
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\u%04x", *p);
            p++;
            continue;
        }
        n = hd_utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", out); /* not UTF-8: JSON must stay valid */
            p++;
            continue;
        }
        if (hd_unicode_is_control(hd_utf8_decode(p, n)))
            fprintf(out, "\\u%04lx", hd_utf8_decode(p, n)); /* C1, bidi: inert in the text */
        else
            fwrite(p, 1, n, out);
        p += n;
    }
    fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
    before_value(j);
    write_string(j->out, key);
    fputs(j->indent ? ": " : ":", j->out);
    j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
    before_value(j);
    if (s == NULL)
        fputs("null", j->out);
    else
        write_string(j->out, s);
}

void json_int(struct json *j, long long v)
{
    before_value(j);
    fprintf(j->out, "%lld", v);
}

void json_bool(struct json *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
    before_value(j);
    fputs("null", j->out);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_string(j, s);
}

void json_kv_int(struct json *j, const char *key, long long v)
{
    json_key(j, key);
    json_int(j, v);
}

void json_kv_int_or_null(struct json *j, const char *key, long long v, bool present)
{
    json_key(j, key);
    if (present)
        json_int(j, v);
    else
        json_null(j);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
    json_key(j, key);
    json_bool(j, v);
}

void json_kv_hex(struct json *j, const char *key, unsigned long v, int width)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "0x%0*lx", width, v);
    json_kv_string(j, key, buf);
}

void json_finish(struct json *j)
{
    fputc('\n', j->out);
}

void json_kv_words(struct json *j, const char *key, const char *words)
{
    char *copy = words ? strdup(words) : NULL, *save = NULL;

    json_key(j, key);
    json_begin_array(j);
    for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
        json_string(j, w);
    json_end_array(j);
    free(copy);
}

void json_kv_strings(struct json *j, const char *key, const char *const *v, size_t n)
{
    json_key(j, key);
    json_begin_array(j);
    for (size_t i = 0; i < n; i++)
        json_string(j, v[i]);
    json_end_array(j);
}

void json_kv_findings(struct json *j, const char *key, const struct hd_findings *findings,
                      bool commands_too)
{
    char commands[4][TOOL_COMMAND_MAX];

    json_key(j, key);
    json_begin_array(j);
    for (size_t i = 0; i < hd_findings_count(findings); i++) {
        json_begin_object(j);
        json_kv_string(j, "severity", hd_severity_to_string(hd_findings_get_severity(findings, i)));
        json_kv_string(j, "code", hd_findings_get_code(findings, i));
        json_kv_string(j, "device", hd_findings_get_device(findings, i));
        json_kv_string(j, "message", hd_findings_get_message(findings, i));
        json_kv_string(j, "fix", hd_findings_get_fix(findings, i));
        if (commands_too) {
            size_t n = tool_remedy_commands(findings, i, commands, 4);
            json_key(j, "commands");
            json_begin_array(j);
            for (size_t k = 0; k < n; k++)
                json_string(j, commands[k]);
            json_end_array(j);
        }
        json_end_object(j);
    }
    json_end_array(j);
}
