/* SDP parser and writers for the SFU (see sdp.h). The parser copies each line into a
 * bounded, NUL-terminated buffer and tokenises it there, so no step reads past the input
 * and every field copy is checked against its destination. */
#include "sdp.h"

#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ small helpers */

/* Copies a NUL-terminated string; false (dst untouched) if it does not fit. */
static bool copy_field(char *dst, size_t dst_size, const char *src)
{
    size_t n = strlen(src);
    if (n >= dst_size) return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Parses a run of decimal digits at *s up to max; advances *s past them. */
static bool parse_uint(const char **s, uint64_t max, uint64_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max) return false;
    }
    *s = p;
    *out = v;
    return true;
}

/* Whole string must be a number <= max. */
static bool parse_uint_all(const char *s, uint64_t max, uint64_t *out)
{
    return parse_uint(&s, max, out) && *s == '\0';
}

/* Splits off the next space-separated token (runs of spaces/tabs skipped); NULL at end. */
static char *next_token(char **cursor)
{
    char *p = *cursor;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0') {
        *cursor = p;
        return NULL;
    }
    char *start = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = '\0';
    *cursor = p;
    return start;
}

/* Token characters for values we echo into SDP: visible ASCII, no space. */
static bool is_token(const char *s, size_t max_len)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max_len) return false;
    return n > 0;
}

/* "AB:CD:…" with 1..64 hex pairs. */
static bool is_hex_fingerprint(const char *s)
{
    size_t pairs = 0;
    for (;;) {
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1])) return false;
        pairs++;
        s += 2;
        if (*s == '\0') return pairs <= 64;
        if (*s++ != ':') return false;
    }
}

/* ------------------------------------------------------------------ parser state */

typedef struct {
    char ufrag[64], pwd[128], fingerprint[160];
    dc_setup setup;
} transport_attrs;

typedef struct {
    dc_sdp *out;
    transport_attrs session_tr, media_tr[DC_SDP_MAX_MEDIA];
    dc_direction session_dir;
    dc_sdp_media *cur; /* NULL at session level */
    bool cur_is_rtp;
    unsigned line_no;
    char *err;
    size_t err_len;
    char line[DC_SDP_MAX_LINE + 1];
} parse_ctx;

_Static_assert(sizeof((transport_attrs *)0)->ufrag == sizeof((dc_sdp *)0)->ice_ufrag, "ufrag size");
_Static_assert(sizeof((transport_attrs *)0)->pwd == sizeof((dc_sdp *)0)->ice_pwd, "pwd size");
_Static_assert(sizeof((transport_attrs *)0)->fingerprint == sizeof((dc_sdp *)0)->fingerprint, "fp size");

static bool fail(parse_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(parse_ctx *c, const char *fmt, ...)
{
    if (c->err && c->err_len) {
        int n = c->line_no ? snprintf(c->err, c->err_len, "line %u: ", c->line_no) : 0;
        if (n < 0) n = 0;
        if ((size_t)n < c->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->err_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

static transport_attrs *cur_transport(parse_ctx *c)
{
    return c->cur ? &c->media_tr[c->cur - c->out->media] : &c->session_tr;
}

static dc_sdp_codec *find_codec(dc_sdp_media *m, uint64_t pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt) return &m->codecs[i];
    return NULL;
}

/* ------------------------------------------------------------------ m= line */

static dc_media_kind kind_from_name(const char *s)
{
    if (!strcmp(s, "audio")) return DC_MEDIA_AUDIO;
    if (!strcmp(s, "video")) return DC_MEDIA_VIDEO;
    if (!strcmp(s, "application")) return DC_MEDIA_APPLICATION;
    return DC_MEDIA_OTHER;
}

static bool parse_rtp_formats(parse_ctx *c, dc_sdp_media *m, char **cursor)
{
    for (char *tok; (tok = next_token(cursor));) {
        uint64_t pt;
        if (!parse_uint_all(tok, 127, &pt)) return fail(c, "payload type '%.16s' is not 0-127", tok);
        if (find_codec(m, pt)) continue;                /* listed twice: keep the first */
        if (m->n_codecs == DC_SDP_MAX_CODECS) continue; /* beyond our table: ignored */
        dc_sdp_codec *codec = &m->codecs[m->n_codecs++];
        codec->pt = (uint8_t)pt;
        codec->apt = -1;
    }
    return true;
}

static bool parse_m_line(parse_ctx *c, char *value)
{
    dc_sdp *s = c->out;
    if (s->n_media == DC_SDP_MAX_MEDIA) return fail(c, "more than %d m-lines", DC_SDP_MAX_MEDIA);
    dc_sdp_media *m = &s->media[s->n_media];
    char *cursor = value;
    char *kind = next_token(&cursor), *port = next_token(&cursor), *proto = next_token(&cursor);
    if (!kind || !port || !proto) return fail(c, "m-line needs media, port and proto");
    if (!copy_field(m->kind_name, sizeof m->kind_name, kind) || !copy_field(m->proto, sizeof m->proto, proto))
        return fail(c, "m-line media or proto too long");
    const char *p = port;
    uint64_t port_num, n_ports;
    if (!parse_uint(&p, 65535, &port_num) || (*p == '/' && (p++, !parse_uint(&p, 65535, &n_ports))) || *p)
        return fail(c, "m-line port '%.16s' is not a number", port);
    m->kind = kind_from_name(kind);
    m->rejected = port_num == 0;
    m->direction = c->session_dir;
    c->cur = m;
    s->n_media++;
    c->cur_is_rtp = strstr(proto, "RTP/") != NULL;
    if (c->cur_is_rtp) {
        if (!parse_rtp_formats(c, m, &cursor)) return false;
        if (m->n_codecs == 0) return fail(c, "m-line without payload types");
    } else {
        char *fmt = next_token(&cursor);
        if (!fmt) return fail(c, "m-line without formats");
        if (!copy_field(m->fmt, sizeof m->fmt, fmt)) return fail(c, "m-line format too long");
    }
    return true;
}

/* ------------------------------------------------------------------ a= attributes */

static bool attr_rtpmap(parse_ctx *c, char *value)
{
    char *cursor = value, *pt_s = next_token(&cursor), *enc = next_token(&cursor);
    uint64_t pt;
    if (!pt_s || !enc || !parse_uint_all(pt_s, 127, &pt)) return fail(c, "bad rtpmap");
    dc_sdp_codec *codec = find_codec(c->cur, pt);
    /* enc = name/clock[/channels] */
    char *name = enc, *slash = strchr(enc, '/');
    if (!slash) return fail(c, "rtpmap without clock rate");
    *slash = '\0';
    const char *p = slash + 1;
    uint64_t clock, channels = 0;
    if (!parse_uint(&p, UINT32_MAX, &clock)) return fail(c, "rtpmap clock rate is not a number");
    if (*p == '/' && (p++, !parse_uint(&p, 255, &channels))) return fail(c, "rtpmap channels is not 0-255");
    if (*p) return fail(c, "junk after rtpmap");
    if (!codec) return true; /* not on the m-line (or beyond our table) */
    if (!copy_field(codec->name, sizeof codec->name, name)) return fail(c, "codec name too long");
    codec->clock = (uint32_t)clock;
    codec->channels = (uint8_t)channels;
    return true;
}

/* apt=<pt> inside an fmtp parameter list, -1 if absent or malformed. */
static int fmtp_apt(const char *params)
{
    for (const char *p = params; (p = strstr(p, "apt=")); p += 4) {
        if (p != params && p[-1] != ';' && p[-1] != ' ') continue;
        const char *q = p + 4;
        uint64_t v;
        if (parse_uint(&q, 127, &v) && (*q == '\0' || *q == ';')) return (int)v;
    }
    return -1;
}

static bool attr_fmtp(parse_ctx *c, char *value)
{
    char *cursor = value, *pt_s = next_token(&cursor);
    uint64_t pt;
    if (!pt_s || !parse_uint_all(pt_s, 127, &pt)) return fail(c, "bad fmtp payload type");
    while (*cursor == ' ' || *cursor == '\t') cursor++;
    dc_sdp_codec *codec = find_codec(c->cur, pt);
    if (!codec) return true;
    if (!copy_field(codec->fmtp, sizeof codec->fmtp, cursor)) return fail(c, "fmtp too long");
    codec->apt = fmtp_apt(codec->fmtp);
    return true;
}

static void apply_rtcp_fb(dc_sdp_codec *codec, const char *type, const char *param)
{
    if (!strcmp(type, "nack") && !param) codec->fb_nack = true;
    else if (!strcmp(type, "nack") && !strcmp(param, "pli")) codec->fb_nack_pli = true;
    else if (!strcmp(type, "ccm") && param && !strcmp(param, "fir")) codec->fb_ccm_fir = true;
    else if (!strcmp(type, "transport-cc")) codec->fb_transport_cc = true;
    else if (!strcmp(type, "goog-remb")) codec->fb_goog_remb = true;
}

static bool attr_rtcp_fb(parse_ctx *c, char *value)
{
    char *cursor = value, *pt_s = next_token(&cursor), *type = next_token(&cursor);
    char *param = next_token(&cursor);
    if (!pt_s || !type) return fail(c, "bad rtcp-fb");
    if (!strcmp(pt_s, "*")) {
        for (size_t i = 0; i < c->cur->n_codecs; i++) apply_rtcp_fb(&c->cur->codecs[i], type, param);
        return true;
    }
    uint64_t pt;
    if (!parse_uint_all(pt_s, 127, &pt)) return fail(c, "bad rtcp-fb payload type");
    dc_sdp_codec *codec = find_codec(c->cur, pt);
    if (codec) apply_rtcp_fb(codec, type, param);
    return true;
}

static bool attr_extmap(parse_ctx *c, char *value)
{
    char *cursor = value, *id_s = next_token(&cursor), *uri = next_token(&cursor);
    if (!id_s || !uri) return fail(c, "bad extmap");
    const char *p = id_s;
    uint64_t id;
    /* id[/direction]; ids 1-14 one-byte, up to 255 two-byte (RFC 8285) */
    if (!parse_uint(&p, 255, &id) || id == 0 || (*p && *p != '/')) return fail(c, "bad extmap id");
    dc_sdp_media *m = c->cur;
    if (m->n_extmaps == DC_SDP_MAX_EXTMAPS) return true;
    if (strlen(uri) >= sizeof m->extmaps[0].uri) return true; /* not one we use */
    m->extmaps[m->n_extmaps].id = (uint8_t)id;
    copy_field(m->extmaps[m->n_extmaps].uri, sizeof m->extmaps[0].uri, uri);
    m->n_extmaps++;
    return true;
}

static dc_sdp_ssrc *find_or_add_ssrc(dc_sdp_media *m, uint32_t ssrc)
{
    for (size_t i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc) return &m->ssrcs[i];
    if (m->n_ssrcs == DC_SDP_MAX_SSRCS) return NULL;
    m->ssrcs[m->n_ssrcs].ssrc = ssrc;
    return &m->ssrcs[m->n_ssrcs++];
}

static bool attr_ssrc(parse_ctx *c, char *value)
{
    char *cursor = value, *ssrc_s = next_token(&cursor), *attr = next_token(&cursor);
    uint64_t ssrc;
    if (!ssrc_s || !attr || !parse_uint_all(ssrc_s, UINT32_MAX, &ssrc)) return fail(c, "bad ssrc line");
    dc_sdp_ssrc *entry = find_or_add_ssrc(c->cur, (uint32_t)ssrc);
    if (!entry) return true;
    if (!strncmp(attr, "cname:", 6) && !copy_field(entry->cname, sizeof entry->cname, attr + 6))
        return fail(c, "cname too long");
    if (!strncmp(attr, "msid:", 5) && !c->cur->msid[0]) {
        /* older style: msid only on the ssrc line; keep "stream track" */
        while (*cursor == ' ') cursor++;
        char buf[sizeof c->cur->msid];
        int n = snprintf(buf, sizeof buf, "%s%s%s", attr + 5, *cursor ? " " : "", cursor);
        if (n > 0 && (size_t)n < sizeof buf) memcpy(c->cur->msid, buf, (size_t)n + 1);
    }
    return true;
}

/* a=ssrc-group:SIM a b c (RFC 8853 leaves it out; older senders and munged SDP give it) */
static bool attr_ssrc_group_sim(parse_ctx *c, char *cursor)
{
    dc_sdp_media *m = c->cur;
    m->n_sim_ssrcs = 0;
    for (char *tok; (tok = next_token(&cursor));) {
        uint64_t ssrc;
        if (!parse_uint_all(tok, UINT32_MAX, &ssrc)) return fail(c, "bad ssrc-group:SIM");
        if (m->n_sim_ssrcs < DC_SDP_MAX_RIDS) m->sim_ssrcs[m->n_sim_ssrcs++] = (uint32_t)ssrc;
    }
    return true;
}

static bool attr_ssrc_group(parse_ctx *c, char *value)
{
    char *cursor = value, *semantics = next_token(&cursor);
    if (!semantics) return fail(c, "bad ssrc-group");
    if (!strcmp(semantics, "SIM")) return attr_ssrc_group_sim(c, cursor);
    if (strcmp(semantics, "FID")) return true; /* FEC-FR …: not used */
    char *a = next_token(&cursor), *b = next_token(&cursor);
    uint64_t primary, rtx;
    if (!a || !b || !parse_uint_all(a, UINT32_MAX, &primary) || !parse_uint_all(b, UINT32_MAX, &rtx))
        return fail(c, "bad ssrc-group:FID");
    c->cur->fid_primary = (uint32_t)primary;
    c->cur->fid_rtx = (uint32_t)rtx;
    return true;
}

/* RFC 8851: a=rid:<id> send [restrictions]. Only sending rids can be simulcast layers. */
static bool attr_rid(parse_ctx *c, char *value)
{
    dc_sdp_media *m = c->cur;
    char *cursor = value, *id = next_token(&cursor), *dir = next_token(&cursor);
    if (!id || !dir || !is_token(id, DC_SDP_RID_MAX - 1)) return fail(c, "bad or too long rid");
    if (strcmp(dir, "send") || m->n_rid_send == DC_SDP_MAX_RIDS * 2) return true;
    copy_field(m->rid_send[m->n_rid_send++], DC_SDP_RID_MAX, id);
    return true;
}

/* RFC 8853: a=simulcast:send q;h;f [recv …] — the send list, first alternative of each
 * ("a,b" → a), a paused "~q" kept as q; old Firefox wrote "send rid=q;h;f". */
static bool attr_simulcast(parse_ctx *c, char *value)
{
    dc_sdp_media *m = c->cur;
    char *cursor = value;
    for (char *dir; (dir = next_token(&cursor));) {
        char *list = next_token(&cursor);
        if (!list) return fail(c, "bad simulcast");
        if (strcmp(dir, "send")) continue;
        if (!strncmp(list, "rid=", 4)) list += 4;
        m->n_rids = 0;
        for (char *save = NULL, *alt = strtok_r(list, ";", &save); alt; alt = strtok_r(NULL, ";", &save)) {
            alt[strcspn(alt, ",")] = '\0';
            if (*alt == '~') alt++;
            if (!is_token(alt, DC_SDP_RID_MAX - 1)) return fail(c, "bad or too long simulcast rid");
            if (m->n_rids < DC_SDP_MAX_RIDS) copy_field(m->rids[m->n_rids++], DC_SDP_RID_MAX, alt);
        }
    }
    return true;
}

/* The layers are the send list's rids that an a=rid line declares as sending (either
 * attribute may come first); a single one is no simulcast. */
static void resolve_simulcast(dc_sdp_media *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_rids; i++) {
        bool declared = false;
        for (size_t j = 0; j < m->n_rid_send && !declared; j++) declared = !strcmp(m->rid_send[j], m->rids[i]);
        if (declared) memmove(m->rids[n++], m->rids[i], DC_SDP_RID_MAX);
    }
    m->n_rids = n >= 2 && m->kind == DC_MEDIA_VIDEO ? n : 0;
    if (m->n_sim_ssrcs != m->n_rids) m->n_sim_ssrcs = 0;
}

static bool attr_group(parse_ctx *c, char *value)
{
    char *cursor = value, *semantics = next_token(&cursor);
    if (!semantics || strcmp(semantics, "BUNDLE")) return true; /* LS etc. */
    dc_sdp *s = c->out;
    s->n_bundle = 0; /* we use one BUNDLE group: the last one written */
    for (char *mid; (mid = next_token(&cursor));) {
        if (s->n_bundle == DC_SDP_MAX_MEDIA) return fail(c, "BUNDLE group too large");
        if (!copy_field(s->bundle[s->n_bundle], sizeof s->bundle[0], mid)) return fail(c, "BUNDLE mid too long");
        s->n_bundle++;
    }
    return true;
}

static bool attr_fingerprint(parse_ctx *c, char *value)
{
    char *cursor = value, *hash = next_token(&cursor), *hex = next_token(&cursor);
    if (!hash || !hex || next_token(&cursor) || !is_token(hash, 16) || !is_hex_fingerprint(hex))
        return fail(c, "bad fingerprint");
    transport_attrs *t = cur_transport(c);
    /* keep the first: browsers may list several hashes; sha-256 comes first in practice */
    if (t->fingerprint[0]) return true;
    char buf[sizeof t->fingerprint];
    int n = snprintf(buf, sizeof buf, "%s %s", hash, hex);
    if (n < 0 || (size_t)n >= sizeof buf) return fail(c, "fingerprint too long");
    memcpy(t->fingerprint, buf, (size_t)n + 1);
    return true;
}

static bool attr_setup(parse_ctx *c, const char *value)
{
    dc_setup v;
    if (!strcmp(value, "actpass")) v = DC_SETUP_ACTPASS;
    else if (!strcmp(value, "active")) v = DC_SETUP_ACTIVE;
    else if (!strcmp(value, "passive")) v = DC_SETUP_PASSIVE;
    else return fail(c, "unsupported setup '%.16s'", value);
    cur_transport(c)->setup = v;
    return true;
}

static bool attr_ice(parse_ctx *c, const char *name, const char *value)
{
    transport_attrs *t = cur_transport(c);
    bool ufrag = !strcmp(name, "ice-ufrag");
    char *dst = ufrag ? t->ufrag : t->pwd;
    size_t size = ufrag ? sizeof t->ufrag : sizeof t->pwd;
    if (!is_token(value, size - 1)) return fail(c, "bad or too long %s", name);
    copy_field(dst, size, value);
    return true;
}

static bool set_direction(parse_ctx *c, dc_direction d)
{
    if (c->cur) c->cur->direction = d;
    else c->session_dir = d;
    return true;
}

/* Attributes valid only inside a media section; at session level they are ignored. */
static bool media_attr(parse_ctx *c, const char *name, char *value)
{
    dc_sdp_media *m = c->cur;
    if (!strcmp(name, "mid")) {
        if (!value || !is_token(value, sizeof m->mid - 1)) return fail(c, "bad or too long mid");
        copy_field(m->mid, sizeof m->mid, value);
        return true;
    }
    if (!strcmp(name, "bundle-only")) { /* JSEP: port 0 here means "only if bundled" */
        m->rejected = false;
        return true;
    }
    if (!strcmp(name, "rtcp-mux")) return m->rtcp_mux = true;
    if (!strcmp(name, "rtcp-rsize")) return m->rtcp_rsize = true;
    if (!strcmp(name, "msid")) {
        if (!value || !copy_field(m->msid, sizeof m->msid, value)) return fail(c, "bad or too long msid");
        return true;
    }
    if (!c->cur_is_rtp) return true;
    if (!value) return true;
    if (!strcmp(name, "rtpmap")) return attr_rtpmap(c, value);
    if (!strcmp(name, "fmtp")) return attr_fmtp(c, value);
    if (!strcmp(name, "rtcp-fb")) return attr_rtcp_fb(c, value);
    if (!strcmp(name, "extmap")) return attr_extmap(c, value);
    if (!strcmp(name, "ssrc")) return attr_ssrc(c, value);
    if (!strcmp(name, "ssrc-group")) return attr_ssrc_group(c, value);
    if (!strcmp(name, "rid")) return attr_rid(c, value);
    if (!strcmp(name, "simulcast")) return attr_simulcast(c, value);
    return true;
}

static bool parse_attribute(parse_ctx *c, char *text)
{
    char *colon = strchr(text, ':');
    char *value = NULL;
    if (colon) {
        *colon = '\0';
        value = colon + 1;
    }
    const char *name = text;
    if (!strcmp(name, "sendrecv")) return set_direction(c, DC_DIR_SENDRECV);
    if (!strcmp(name, "sendonly")) return set_direction(c, DC_DIR_SENDONLY);
    if (!strcmp(name, "recvonly")) return set_direction(c, DC_DIR_RECVONLY);
    if (!strcmp(name, "inactive")) return set_direction(c, DC_DIR_INACTIVE);
    if (!strcmp(name, "ice-lite")) return c->out->ice_lite = true;
    bool needs_value = !strcmp(name, "ice-ufrag") || !strcmp(name, "ice-pwd") || !strcmp(name, "fingerprint") ||
                       !strcmp(name, "setup") || !strcmp(name, "group");
    if (needs_value && !value) return fail(c, "a=%s without a value", name);
    if (!strcmp(name, "ice-ufrag") || !strcmp(name, "ice-pwd")) return attr_ice(c, name, value);
    if (!strcmp(name, "fingerprint")) return attr_fingerprint(c, value);
    if (!strcmp(name, "setup")) return attr_setup(c, value);
    if (!strcmp(name, "group")) return c->cur ? true : attr_group(c, value);
    if (c->cur) return media_attr(c, name, value);
    return true; /* other session attributes: msid-semantic, extmap-allow-mixed … */
}

/* ------------------------------------------------------------------ lines */

static bool parse_line(parse_ctx *c, char *line)
{
    if (c->line_no == 1 && strcmp(line, "v=0")) return fail(c, "SDP must start with v=0");
    if (!g_ascii_isalpha(line[0]) || line[1] != '=') return fail(c, "not a <type>=<value> line");
    char *value = line + 2;
    switch (line[0]) {
    case 'v': return c->line_no == 1 ? true : fail(c, "v= repeated");
    case 'm': return parse_m_line(c, value);
    case 'a': return parse_attribute(c, value);
    default: return true; /* o, s, t, c, b, i … carry nothing the SFU uses */
    }
}

/* Copies the line [start, end) into buf without its CR; refuses control characters. */
static bool take_line(parse_ctx *c, const char *start, size_t n, char *buf)
{
    if (n && start[n - 1] == '\r') n--;
    if (n > DC_SDP_MAX_LINE) return fail(c, "line longer than %d bytes", DC_SDP_MAX_LINE);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)start[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return fail(c, "control character 0x%02x", ch);
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    return true;
}

/* ------------------------------------------------------------------ final checks */

static dc_sdp_media *media_by_mid(dc_sdp *s, const char *mid)
{
    for (size_t i = 0; i < s->n_media; i++)
        if (!strcmp(s->media[i].mid, mid)) return &s->media[i];
    return NULL;
}

enum transport_field { TR_UFRAG, TR_PWD, TR_FINGERPRINT, TR_SETUP, TR_COUNT };

static bool has_transport_field(const transport_attrs *t, enum transport_field f)
{
    switch (f) {
    case TR_UFRAG: return t->ufrag[0] != '\0';
    case TR_PWD: return t->pwd[0] != '\0';
    case TR_FINGERPRINT: return t->fingerprint[0] != '\0';
    default: return t->setup != DC_SETUP_NONE;
    }
}

static void copy_transport_field(dc_sdp *s, const transport_attrs *t, enum transport_field f)
{
    switch (f) {
    case TR_UFRAG: memcpy(s->ice_ufrag, t->ufrag, sizeof s->ice_ufrag); break;
    case TR_PWD: memcpy(s->ice_pwd, t->pwd, sizeof s->ice_pwd); break;
    case TR_FINGERPRINT: memcpy(s->fingerprint, t->fingerprint, sizeof s->fingerprint); break;
    default: s->setup = t->setup; break;
    }
}

/* Each transport field comes from the BUNDLE-tagged m-line (the first mid of the group),
 * else session level, else the first m-line that has it (lenient, for odd writers). */
static void merge_transport(parse_ctx *c)
{
    dc_sdp *s = c->out;
    const transport_attrs *tagged = NULL;
    dc_sdp_media *first = s->n_bundle ? media_by_mid(s, s->bundle[0]) : NULL;
    if (first) tagged = &c->media_tr[first - s->media];
    for (enum transport_field f = 0; f < TR_COUNT; f++) {
        const transport_attrs *from = NULL;
        if (tagged && has_transport_field(tagged, f)) from = tagged;
        else if (has_transport_field(&c->session_tr, f)) from = &c->session_tr;
        for (size_t i = 0; i < s->n_media && !from; i++)
            if (has_transport_field(&c->media_tr[i], f)) from = &c->media_tr[i];
        if (from) copy_transport_field(s, from, f);
    }
}

static bool check_complete(parse_ctx *c)
{
    dc_sdp *s = c->out;
    c->line_no = 0;
    if (s->n_media == 0) return fail(c, "no m-lines");
    if (s->n_bundle == 0) return fail(c, "no a=group:BUNDLE");
    for (size_t i = 0; i < s->n_media; i++) {
        const dc_sdp_media *m = &s->media[i];
        if (!m->mid[0] && !m->rejected) return fail(c, "m-line %zu has no a=mid", i);
        for (size_t j = 0; j < i && m->mid[0]; j++)
            if (!strcmp(s->media[j].mid, m->mid)) return fail(c, "mid '%s' used twice", m->mid);
        resolve_simulcast(&s->media[i]);
    }
    for (size_t i = 0; i < s->n_bundle; i++)
        if (!media_by_mid(s, s->bundle[i])) return fail(c, "BUNDLE names unknown mid '%s'", s->bundle[i]);
    merge_transport(c);
    if (!s->ice_ufrag[0]) return fail(c, "no a=ice-ufrag");
    if (!s->ice_pwd[0]) return fail(c, "no a=ice-pwd");
    if (!s->fingerprint[0]) return fail(c, "no a=fingerprint");
    return true;
}

bool dc_sdp_parse(const char *text, size_t len, dc_sdp *out, char *err, size_t err_len)
{
    if (err && err_len) err[0] = '\0';
    if (!out) return false;
    memset(out, 0, sizeof *out);
    parse_ctx *c = calloc(1, sizeof *c);
    if (!c) return false;
    c->out = out;
    c->err = err;
    c->err_len = err_len;
    bool ok = true;
    if (!text || len == 0) ok = fail(c, "empty SDP");
    else if (len > DC_SDP_MAX_TEXT) ok = fail(c, "SDP larger than %d bytes", DC_SDP_MAX_TEXT);
    for (size_t pos = 0; ok && pos < len;) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        c->line_no++;
        /* +1: the CR that take_line strips may push a maximal line one byte over */
        if (n > DC_SDP_MAX_LINE + 1) {
            ok = fail(c, "line longer than %d bytes", DC_SDP_MAX_LINE);
            break;
        }
        ok = take_line(c, start, n, c->line);
        if (ok && c->line[0] == '\0') {
            if (c->line_no == 1) ok = fail(c, "SDP must start with v=0");
            continue; /* a blank line (usually the end) */
        }
        if (ok) ok = parse_line(c, c->line);
    }
    if (ok) ok = check_complete(c);
    free(c);
    return ok;
}

/* ------------------------------------------------------------------ codec choice */

/* Value of key=... in an fmtp parameter list, copied into buf; false if absent. */
static bool fmtp_param(const char *fmtp, const char *key, char *buf, size_t buf_size)
{
    size_t key_len = strlen(key);
    for (const char *p = fmtp; *p;) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = p + strcspn(p, ";");
        if ((size_t)(end - p) > key_len && !strncmp(p, key, key_len) && p[key_len] == '=') {
            size_t n = (size_t)(end - p) - key_len - 1;
            if (n >= buf_size) return false;
            memcpy(buf, p + key_len + 1, n);
            buf[n] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

/* H.264 we forward: packetization-mode=1 and the Baseline profile (profile_idc 0x42, any
 * constraint flags, e.g. 42e01f constrained baseline or 42001f); no profile-level-id
 * means 420010 (RFC 6184), i.e. baseline too. */
static bool h264_fits(const dc_sdp_codec *codec)
{
    char mode[8], plid[16];
    if (!fmtp_param(codec->fmtp, "packetization-mode", mode, sizeof mode) || strcmp(mode, "1")) return false;
    if (!fmtp_param(codec->fmtp, "profile-level-id", plid, sizeof plid)) return true;
    if (strlen(plid) != 6) return false;
    for (int i = 0; i < 6; i++)
        if (!g_ascii_isxdigit(plid[i])) return false;
    return g_ascii_strncasecmp(plid, "42", 2) == 0;
}

static bool codec_fits(const dc_sdp_codec *codec, dc_codec_id id)
{
    switch (id) {
    case DC_CODEC_OPUS:
        return !g_ascii_strcasecmp(codec->name, "opus") && codec->clock == 48000 && codec->channels == 2;
    case DC_CODEC_VP8: return !g_ascii_strcasecmp(codec->name, "VP8") && codec->clock == 90000;
    case DC_CODEC_H264: return !g_ascii_strcasecmp(codec->name, "H264") && codec->clock == 90000 && h264_fits(codec);
    default: return false;
    }
}

int dc_sdp_pick_codec(const dc_sdp_media *m, dc_codec_id *which)
{
    static const dc_codec_id audio_pref[] = {DC_CODEC_OPUS};
    static const dc_codec_id video_pref[] = {DC_CODEC_VP8, DC_CODEC_H264};
    const dc_codec_id *pref = m->kind == DC_MEDIA_AUDIO ? audio_pref : video_pref;
    size_t n_pref = m->kind == DC_MEDIA_AUDIO ? 1 : m->kind == DC_MEDIA_VIDEO ? 2 : 0;
    if (which) *which = DC_CODEC_NONE;
    for (size_t p = 0; p < n_pref; p++)
        for (size_t i = 0; i < m->n_codecs && i < DC_SDP_MAX_CODECS; i++)
            if (codec_fits(&m->codecs[i], pref[p])) {
                if (which) *which = pref[p];
                return (int)i;
            }
    return -1;
}

uint8_t dc_sdp_session_extmap_id(const dc_sdp *sdp, const char *uri)
{
    for (size_t i = 0; i < sdp->n_media && i < DC_SDP_MAX_MEDIA; i++) {
        const dc_sdp_media *m = &sdp->media[i];
        uint8_t id = m->kind == DC_MEDIA_AUDIO || m->kind == DC_MEDIA_VIDEO ? dc_sdp_extmap_id(m, uri) : 0;
        if (id) return id;
    }
    return 0;
}

uint8_t dc_sdp_extmap_id(const dc_sdp_media *m, const char *uri)
{
    for (size_t i = 0; i < m->n_extmaps && i < DC_SDP_MAX_EXTMAPS; i++)
        if (!strcmp(m->extmaps[i].uri, uri)) return m->extmaps[i].id;
    return 0;
}

/* ------------------------------------------------------------------ writers */

/* A fixed-size field is usable in output if it is NUL-terminated and a single token. */
#define FIELD_TOKEN(f) (memchr((f), '\0', sizeof(f)) && is_token((f), sizeof(f)))

/* A NUL-terminated field that may hold spaces (fmtp, msid) but no control characters. */
static bool field_text(const char *f, size_t size)
{
    if (!memchr(f, '\0', size)) return false;
    for (; *f; f++)
        if ((unsigned char)*f < 0x20 || (unsigned char)*f == 0x7f) return false;
    return true;
}

static bool local_ok(const dc_sdp_local *l)
{
    return l && l->ice_ufrag && l->ice_pwd && l->fingerprint && l->candidate_ip && is_token(l->ice_ufrag, 256) &&
           is_token(l->ice_pwd, 256) && is_token(l->candidate_ip, 64) && is_hex_fingerprint(l->fingerprint) &&
           l->candidate_port != 0;
}

static char *finish(GString *s)
{
    char *r = strdup(s->str);
    g_string_free(s, TRUE);
    return r;
}

static void write_session(GString *s, const dc_sdp_local *l, const char (*mids)[32], size_t n_mids)
{
    g_string_append_printf(s, "v=0\r\no=- %" PRIu64 " %" PRIu32 " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", l->session_id,
                           l->session_version);
    if (n_mids) {
        g_string_append(s, "a=group:BUNDLE");
        for (size_t i = 0; i < n_mids; i++) g_string_append_printf(s, " %s", mids[i]);
        g_string_append(s, "\r\n");
    }
    g_string_append(s, "a=ice-lite\r\na=msid-semantic: WMS *\r\n");
}

/* c=, mid, ICE, DTLS and rtcp-mux lines of a bundled, accepted m-line. */
static void write_transport(GString *s, const dc_sdp_local *l, const char *mid, const char *setup, bool rsize)
{
    g_string_append_printf(s,
                           "c=IN IP4 %s\r\na=mid:%s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                           "a=fingerprint:sha-256 %s\r\na=setup:%s\r\na=rtcp-mux\r\n",
                           l->candidate_ip, mid, l->ice_ufrag, l->ice_pwd, l->fingerprint, setup);
    if (rsize) g_string_append(s, "a=rtcp-rsize\r\n");
}

/* UDP first; a passive ICE-TCP candidate (RFC 6544) at a lower priority beside it, for
 * networks that block UDP: a browser pairs it only with its active TCP candidates. */
static void write_candidate(GString *s, const dc_sdp_local *l)
{
    g_string_append_printf(s, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\n", l->candidate_ip,
                           (unsigned)l->candidate_port);
    if (l->tcp_port)
        g_string_append_printf(s, "a=candidate:2 1 tcp 1518280447 %s %u typ host tcptype passive\r\n", l->candidate_ip,
                               (unsigned)l->tcp_port);
    g_string_append(s, "a=end-of-candidates\r\n");
}

static void write_rtpmap(GString *s, uint8_t pt, const char *name, uint32_t clock, uint8_t channels)
{
    g_string_append_printf(s, "a=rtpmap:%u %s/%" PRIu32, (unsigned)pt, name, clock);
    if (channels) g_string_append_printf(s, "/%u", (unsigned)channels);
    g_string_append(s, "\r\n");
}

static void write_rejected(GString *s, const dc_sdp_media *m)
{
    g_string_append_printf(s, "m=%s 0 %s", m->kind_name, m->proto);
    if (m->n_codecs)
        for (size_t i = 0; i < m->n_codecs && i < DC_SDP_MAX_CODECS; i++)
            g_string_append_printf(s, " %u", (unsigned)m->codecs[i].pt);
    else g_string_append_printf(s, " %s", m->fmt);
    g_string_append(s, "\r\nc=IN IP4 0.0.0.0\r\n");
    if (m->mid[0]) g_string_append_printf(s, "a=mid:%s\r\n", m->mid);
    g_string_append(s, "a=inactive\r\n");
}

/* Echoes an offered header extension we use, with the offer's id. */
static void write_extmap(GString *s, const dc_sdp_media *m, const char *uri)
{
    uint8_t id = dc_sdp_extmap_id(m, uri);
    if (id) g_string_append_printf(s, "a=extmap:%u %s\r\n", (unsigned)id, uri);
}

/* The layers received: the rid extensions, a=rid:… recv each, a=simulcast:recv. */
static void write_simulcast(GString *s, const dc_sdp_media *m)
{
    write_extmap(s, m, DC_EXT_RID);
    write_extmap(s, m, DC_EXT_REPAIRED_RID);
    for (size_t i = 0; i < m->n_rids; i++) g_string_append_printf(s, "a=rid:%s recv\r\n", m->rids[i]);
    g_string_append(s, "a=simulcast:recv ");
    for (size_t i = 0; i < m->n_rids; i++) g_string_append_printf(s, "%s%s", i ? ";" : "", m->rids[i]);
    g_string_append(s, "\r\n");
}

size_t dc_sdp_simulcast_layers(const dc_sdp_media *m)
{
    if (m->kind != DC_MEDIA_VIDEO || m->n_rids < 2 || m->n_rids > DC_SDP_MAX_RIDS) return 0;
    for (size_t i = 0; i < m->n_rids; i++)
        if (!memchr(m->rids[i], '\0', DC_SDP_RID_MAX) || !is_token(m->rids[i], DC_SDP_RID_MAX - 1)) return 0;
    /* without the rid extension the layers cannot be told apart unless SIM names them */
    return dc_sdp_extmap_id(m, DC_EXT_RID) || m->n_sim_ssrcs == m->n_rids ? m->n_rids : 0;
}

int dc_sdp_rtx_pt(const dc_sdp_media *m, uint8_t apt)
{
    for (size_t i = 0; i < m->n_codecs && i < DC_SDP_MAX_CODECS; i++)
        if (!g_ascii_strcasecmp(m->codecs[i].name, "rtx") && m->codecs[i].apt == apt) return m->codecs[i].pt;
    return -1;
}

static void write_rtx(GString *s, int rtx_pt, int apt)
{
    g_string_append_printf(s, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", rtx_pt, rtx_pt, apt);
}

/* RFC 2198 RED around Opus: one redundant block per packet, as libwebrtc sends. */
static void write_red(GString *s, int red_pt, int opus_pt)
{
    g_string_append_printf(s, "a=rtpmap:%d red/48000/2\r\na=fmtp:%d %d/%d\r\n", red_pt, red_pt, opus_pt, opus_pt);
}

static void write_accepted(GString *s, const dc_sdp_media *m, const dc_sdp_codec *codec, const dc_sdp_local *l)
{
    int rtx_pt = l->rtx && m->kind == DC_MEDIA_VIDEO ? dc_sdp_rtx_pt(m, codec->pt) : -1;
    int red_pt = l->red && m->kind == DC_MEDIA_AUDIO ? dc_sdp_red_pt(m, codec->pt) : -1;
    g_string_append_printf(s, "m=%s %u %s", m->kind_name, (unsigned)l->candidate_port, m->proto);
    if (red_pt >= 0) g_string_append_printf(s, " %d", red_pt); /* first: libwebrtc sends RED only so */
    g_string_append_printf(s, " %u", (unsigned)codec->pt);
    if (rtx_pt >= 0) g_string_append_printf(s, " %d", rtx_pt);
    g_string_append(s, "\r\n");
    write_transport(s, l, m->mid, "passive", m->rtcp_rsize);
    g_string_append(s, "a=recvonly\r\n");
    write_extmap(s, m, DC_EXT_MID);
    if (m->kind == DC_MEDIA_AUDIO) write_extmap(s, m, DC_EXT_AUDIO_LEVEL);
    if (dc_sdp_extmap_id(m, DC_EXT_TWCC) <= 14) /* (one-byte ids: the engine's limit) */
        write_extmap(s, m, DC_EXT_TWCC);        /* the server then sends transport-cc feedback */
    if (dc_sdp_simulcast_layers(m)) write_simulcast(s, m);
    write_rtpmap(s, codec->pt, codec->name, codec->clock, codec->channels);
    if (codec->fmtp[0]) g_string_append_printf(s, "a=fmtp:%u %s\r\n", (unsigned)codec->pt, codec->fmtp);
    static const struct {
        size_t flag_offset;
        const char *text;
    } fbs[] = {
        {offsetof(dc_sdp_codec, fb_nack), "nack"},
        {offsetof(dc_sdp_codec, fb_nack_pli), "nack pli"},
        {offsetof(dc_sdp_codec, fb_ccm_fir), "ccm fir"},
        {offsetof(dc_sdp_codec, fb_goog_remb), "goog-remb"},
        {offsetof(dc_sdp_codec, fb_transport_cc), "transport-cc"},
    };
    for (size_t i = 0; i < sizeof fbs / sizeof fbs[0]; i++)
        if (*(const bool *)((const char *)codec + fbs[i].flag_offset))
            g_string_append_printf(s, "a=rtcp-fb:%u %s\r\n", (unsigned)codec->pt, fbs[i].text);
    if (rtx_pt >= 0) write_rtx(s, rtx_pt, codec->pt);
    if (red_pt >= 0) write_red(s, red_pt, codec->pt);
    write_candidate(s, l);
}

/* Whether media i of a publish offer can be accepted; *codec_index gets the pick. */
static bool accept_publish_media(const dc_sdp_media *m, int *codec_index, dc_codec_id *which)
{
    *codec_index = -1;
    *which = DC_CODEC_NONE;
    if (m->rejected || (m->kind != DC_MEDIA_AUDIO && m->kind != DC_MEDIA_VIDEO)) return false;
    if (!FIELD_TOKEN(m->mid) || !FIELD_TOKEN(m->proto) || !FIELD_TOKEN(m->kind_name)) return false;
    *codec_index = dc_sdp_pick_codec(m, which);
    if (*codec_index < 0) return false;
    const dc_sdp_codec *codec = &m->codecs[*codec_index];
    return FIELD_TOKEN(codec->name) && field_text(codec->fmtp, sizeof codec->fmtp);
}

/* A rejected line echoes offered tokens; refuse anything that could break the output. */
static bool rejected_media_ok(const dc_sdp_media *m)
{
    if (!FIELD_TOKEN(m->kind_name) || !FIELD_TOKEN(m->proto)) return false;
    if (!memchr(m->mid, '\0', sizeof m->mid) || (m->mid[0] && !is_token(m->mid, sizeof m->mid))) return false;
    return m->n_codecs || FIELD_TOKEN(m->fmt);
}

char *dc_sdp_write_publish_answer(const dc_sdp *offer, const dc_sdp_local *local, dc_codec_id picked[DC_SDP_MAX_MEDIA],
                                  uint8_t picked_pt[DC_SDP_MAX_MEDIA])
{
    for (size_t i = 0; i < DC_SDP_MAX_MEDIA; i++) {
        if (picked) picked[i] = DC_CODEC_NONE;
        if (picked_pt) picked_pt[i] = 0;
    }
    if (!offer || !local_ok(local) || offer->n_media == 0 || offer->n_media > DC_SDP_MAX_MEDIA) return NULL;
    if (offer->setup == DC_SETUP_ACTIVE || offer->setup == DC_SETUP_PASSIVE) return NULL;
    int chosen[DC_SDP_MAX_MEDIA];
    char accepted_mids[DC_SDP_MAX_MEDIA][32];
    size_t n_accepted = 0;
    for (size_t i = 0; i < offer->n_media; i++) {
        const dc_sdp_media *m = &offer->media[i];
        dc_codec_id which;
        if (accept_publish_media(m, &chosen[i], &which)) {
            memcpy(accepted_mids[n_accepted++], m->mid, sizeof m->mid);
            if (picked) picked[i] = which;
            if (picked_pt) picked_pt[i] = m->codecs[chosen[i]].pt;
        } else {
            chosen[i] = -1;
            if (!rejected_media_ok(m)) return NULL;
        }
    }
    GString *s = g_string_sized_new(2048);
    write_session(s, local, (const char(*)[32])accepted_mids, n_accepted);
    for (size_t i = 0; i < offer->n_media; i++) {
        const dc_sdp_media *m = &offer->media[i];
        if (chosen[i] >= 0) write_accepted(s, m, &m->codecs[chosen[i]], local);
        else write_rejected(s, m);
    }
    return finish(s);
}

static bool slot_ok(const dc_sdp_slot *slot)
{
    if (!FIELD_TOKEN(slot->mid) || (slot->kind != DC_MEDIA_AUDIO && slot->kind != DC_MEDIA_VIDEO)) return false;
    if (!slot->active) return true;
    return slot->ssrc != 0 && FIELD_TOKEN(slot->msid_stream) && FIELD_TOKEN(slot->msid_track) &&
           FIELD_TOKEN(slot->cname);
}

static void write_slot(GString *s, const dc_sdp_slot *slot, const dc_sdp_local *l)
{
    bool audio = slot->kind == DC_MEDIA_AUDIO;
    if (audio && l->red)
        g_string_append_printf(s, "m=audio %u UDP/TLS/RTP/SAVPF %d %d\r\n", (unsigned)l->candidate_port, DC_PT_OPUS,
                               DC_PT_RED);
    else if (audio)
        g_string_append_printf(s, "m=audio %u UDP/TLS/RTP/SAVPF %d\r\n", (unsigned)l->candidate_port, DC_PT_OPUS);
    else if (slot->rtx_ssrc)
        g_string_append_printf(s, "m=video %u UDP/TLS/RTP/SAVPF %d %d %d %d\r\n", (unsigned)l->candidate_port,
                               DC_PT_VP8, DC_PT_VP8_RTX, DC_PT_H264, DC_PT_H264_RTX);
    else
        g_string_append_printf(s, "m=video %u UDP/TLS/RTP/SAVPF %d %d\r\n", (unsigned)l->candidate_port, DC_PT_VP8,
                               DC_PT_H264);
    write_transport(s, l, slot->mid, "actpass", true);
    g_string_append(s, slot->active ? "a=sendonly\r\n" : "a=inactive\r\n");
    /* the transport's sequence numbers on what we send, for the bandwidth estimate */
    g_string_append_printf(s, "a=extmap:%d %s\r\n", DC_SUB_TWCC_EXT_ID, DC_EXT_TWCC);
    if (slot->active) g_string_append_printf(s, "a=msid:%s %s\r\n", slot->msid_stream, slot->msid_track);
    if (audio) {
        write_rtpmap(s, DC_PT_OPUS, "opus", 48000, 2);
        g_string_append_printf(s, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", DC_PT_OPUS);
        g_string_append_printf(s, "a=rtcp-fb:%d transport-cc\r\n", DC_PT_OPUS);
        if (l->red) write_red(s, DC_PT_RED, DC_PT_OPUS);
    } else {
        static const int pts[] = {DC_PT_VP8, DC_PT_H264};
        for (size_t i = 0; i < 2; i++) {
            write_rtpmap(s, (uint8_t)pts[i], pts[i] == DC_PT_VP8 ? "VP8" : "H264", 90000, 0);
            if (pts[i] == DC_PT_H264)
                g_string_append_printf(s,
                                       "a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;"
                                       "profile-level-id=42e01f\r\n",
                                       DC_PT_H264);
            g_string_append_printf(s, "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n", pts[i],
                                   pts[i], pts[i]);
            g_string_append_printf(s, "a=rtcp-fb:%d transport-cc\r\n", pts[i]);
            if (slot->rtx_ssrc) write_rtx(s, pts[i] == DC_PT_VP8 ? DC_PT_VP8_RTX : DC_PT_H264_RTX, pts[i]);
        }
    }
    bool rtx = !audio && slot->rtx_ssrc;
    if (slot->active && rtx)
        g_string_append_printf(s, "a=ssrc-group:FID %" PRIu32 " %" PRIu32 "\r\n", slot->ssrc, slot->rtx_ssrc);
    if (slot->active)
        g_string_append_printf(s, "a=ssrc:%" PRIu32 " cname:%s\r\na=ssrc:%" PRIu32 " msid:%s %s\r\n", slot->ssrc,
                               slot->cname, slot->ssrc, slot->msid_stream, slot->msid_track);
    if (slot->active && rtx)
        g_string_append_printf(s, "a=ssrc:%" PRIu32 " cname:%s\r\na=ssrc:%" PRIu32 " msid:%s %s\r\n", slot->rtx_ssrc,
                               slot->cname, slot->rtx_ssrc, slot->msid_stream, slot->msid_track);
    write_candidate(s, l);
}

char *dc_sdp_write_subscribe_offer(const dc_sdp_slot *slots, size_t n_slots, const dc_sdp_local *local)
{
    if (!slots || n_slots == 0 || n_slots > DC_SDP_MAX_MEDIA || !local_ok(local)) return NULL;
    char mids[DC_SDP_MAX_MEDIA][32];
    for (size_t i = 0; i < n_slots; i++) {
        if (!slot_ok(&slots[i])) return NULL;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(slots[j].mid, slots[i].mid)) return NULL;
        memcpy(mids[i], slots[i].mid, sizeof mids[i]);
    }
    GString *s = g_string_sized_new(1024 + 1024 * n_slots);
    write_session(s, local, (const char(*)[32])mids, n_slots);
    for (size_t i = 0; i < n_slots; i++) write_slot(s, &slots[i], local);
    return finish(s);
}
