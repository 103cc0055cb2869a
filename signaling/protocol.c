/* Request validation and reply building for the JSON protocol (PROTOCOL.md). Everything
 * here is a pure function of its input so that tests/unit/test_protocol.c can reach every
 * error path without sockets. */
#include "protocol.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const error_names[] = {
    [DC_OK] = "ok",
    [DC_ERR_BAD_JSON] = "bad_json",
    [DC_ERR_TOO_LARGE] = "too_large",
    [DC_ERR_BAD_REQUEST] = "bad_request",
    [DC_ERR_UNKNOWN_TYPE] = "unknown_type",
    [DC_ERR_NOT_JOINED] = "not_joined",
    [DC_ERR_ALREADY_JOINED] = "already_joined",
    [DC_ERR_BAD_SDP] = "bad_sdp",
    [DC_ERR_STALE_VERSION] = "stale_version",
    [DC_ERR_ROOM_FULL] = "room_full",
    [DC_ERR_UNAUTHORIZED] = "unauthorized",
    [DC_ERR_RESUME_FAILED] = "resume_failed",
    [DC_ERR_RATE_LIMITED] = "rate_limited",
    [DC_ERR_INTERNAL] = "internal",
    [DC_ERR_TOKEN_EXPIRED] = "token_expired",
    [DC_ERR_WRONG_ROOM] = "wrong_room",
    [DC_ERR_FORBIDDEN] = "forbidden",
    [DC_ERR_ROOM_LOCKED] = "room_locked",
    [DC_ERR_SHARE_BUSY] = "share_busy",
    [DC_ERR_NOT_FOUND] = "not_found",
    [DC_ERR_MEETING_ENDED] = "meeting_ended",
    [DC_ERR_NO_SUCH_ROOM] = "no_such_room",
};

const char *dc_error_code_name(dc_error_code code)
{
    if ((size_t)code >= sizeof error_names / sizeof error_names[0]) return "internal";
    return error_names[code];
}

static const struct {
    const char *name;
    dc_request_type type;
} request_types[] = {
    {"join", DC_REQ_JOIN},
    {"publish", DC_REQ_PUBLISH},
    {"subscribe_answer", DC_REQ_SUBSCRIBE_ANSWER},
    {"candidate", DC_REQ_CANDIDATE},
    {"mute", DC_REQ_MUTE},
    {"leave", DC_REQ_LEAVE},
    {"resume", DC_REQ_RESUME},
    {"ping", DC_REQ_PING},
    {"raise_hand", DC_REQ_RAISE_HAND},
    {"lower_hand", DC_REQ_LOWER_HAND},
    {"grant_floor", DC_REQ_GRANT_FLOOR},
    {"revoke_floor", DC_REQ_REVOKE_FLOOR},
    {"next_floor", DC_REQ_NEXT_FLOOR},
    {"mute_participant", DC_REQ_MUTE_PARTICIPANT},
    {"mute_delegates", DC_REQ_MUTE_DELEGATES},
    {"remove_participant", DC_REQ_REMOVE_PARTICIPANT},
    {"lock_room", DC_REQ_LOCK_ROOM},
    {"end_meeting", DC_REQ_END_MEETING},
    {"set_room_options", DC_REQ_SET_ROOM_OPTIONS},
    {"chat", DC_REQ_CHAT},
    {"set_gallery", DC_REQ_SET_GALLERY},
    {"set_quality", DC_REQ_SET_QUALITY},
};

bool dc_request_allowed_before_join(dc_request_type type)
{
    return type == DC_REQ_JOIN || type == DC_REQ_RESUME || type == DC_REQ_PING;
}

static dc_error_code fail(char *msg, size_t msg_len, dc_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dc_error_code fail(char *msg, size_t msg_len, dc_error_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msg_len, fmt, ap);
    va_end(ap);
    return code;
}

/* Counts UTF-8 code points (jansson has already checked the encoding); false on a control
 * character (C0, DEL, C1), which has no place in a display name or a room name. */
static bool count_printable_chars(const char *s, size_t len, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return false;
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9F) return false; /* U+0080-U+009F */
        if ((c & 0xC0) != 0x80) n++;
    }
    *count = n;
    return true;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static void trim_spaces(const char **s, size_t *len)
{
    while (*len && is_space((*s)[0])) (*s)++, (*len)--;
    while (*len && is_space((*s)[*len - 1])) (*len)--;
}

/* A room name is what people type ("Phòng họp Sở Nội vụ"): any Unicode text, trimmed and
 * normalised to NFC so that a precomposed "ò" and "o" + combining grave (what some
 * keyboards and macOS file names produce) name the same room. Rooms are keyed by this
 * text; engine and logs use the room's numeric id. */
dc_error_code dc_room_normalize(const char *field, const char *room, size_t len, char out[DC_ROOM_MAX_BYTES + 1],
                                char *msg, size_t msg_len)
{
    trim_spaces(&room, &len);
    if (memchr(room, '\0', len)) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must not contain NUL", field);
    gchar *nfc = g_utf8_normalize(room, (gssize)len, G_NORMALIZE_NFC);
    if (!nfc) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" is not valid UTF-8", field);
    size_t bytes = strlen(nfc), chars;
    dc_error_code e = DC_OK;
    if (!count_printable_chars(nfc, bytes, &chars))
        e = fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must not contain control characters", field);
    else if (chars < 1 || chars > DC_ROOM_MAX_CHARS || bytes > DC_ROOM_MAX_BYTES)
        e = fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be 1 to %d characters", field, DC_ROOM_MAX_CHARS);
    else memcpy(out, nfc, bytes + 1);
    g_free(nfc);
    return e;
}

/* The caller has checked that text is valid UTF-8 (jansson does). */
dc_error_code dc_label_normalize(const char *field, const char *text, size_t len, char out[DC_NAME_MAX_BYTES + 1],
                                 char *msg, size_t msg_len)
{
    trim_spaces(&text, &len);
    size_t chars;
    if (!count_printable_chars(text, len, &chars))
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must not contain control characters", field);
    if (chars < 1 || chars > DC_NAME_MAX_CHARS || len > DC_NAME_MAX_BYTES)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be 1 to %d characters", field, DC_NAME_MAX_CHARS);
    memcpy(out, text, len);
    out[len] = '\0';
    return DC_OK;
}

/* Looks up a string member; *value NULL if absent. Returns false if present but not a string
 * or longer than max_len bytes. */
static bool optional_string(json_t *obj, const char *key, size_t max_len, const char **value, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    *value = NULL;
    if (len) *len = 0;
    if (!v) return true;
    if (!json_is_string(v) || json_string_length(v) > max_len) return false;
    *value = json_string_value(v);
    if (len) *len = json_string_length(v);
    return true;
}

static dc_error_code required_string(json_t *obj, const char *key, size_t min_len, size_t max_len, const char **value,
                                     size_t *len, char *msg, size_t msg_len)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"%s\"", key);
    if (!json_is_string(v)) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be a string", key);
    size_t n = json_string_length(v);
    if (n < min_len || n > max_len)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be %zu to %zu bytes long", key, min_len, max_len);
    *value = json_string_value(v);
    if (len) *len = n;
    return DC_OK;
}

/* An optional integer member in [lo, hi]; *out = dflt when absent. */
static dc_error_code optional_int(json_t *obj, const char *key, int lo, int hi, int dflt, int *out, char *msg,
                                  size_t msg_len)
{
    json_t *v = json_object_get(obj, key);
    *out = dflt;
    if (!v) return DC_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be an integer from %d to %d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return DC_OK;
}

static dc_error_code required_bool(json_t *obj, const char *key, bool *out, char *msg, size_t msg_len)
{
    json_t *v = json_object_get(obj, key);
    if (!v) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"%s\"", key);
    if (!json_is_boolean(v)) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be a boolean", key);
    *out = json_is_true(v);
    return DC_OK;
}

static dc_error_code parse_join(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    const char *room, *name;
    size_t room_len, name_len;
    /* Limits before trimming too, as for the name below. */
    dc_error_code e = required_string(root, "room", 1, DC_ROOM_MAX_BYTES + 64, &room, &room_len, msg, msg_len);
    if (e) return e;
    e = dc_room_normalize("room", room, room_len, r->room, msg, msg_len);
    if (e) return e;

    /* Optional: the token's name wins. Limit before trimming too, so that a name padded
     * with megabytes of spaces is refused. */
    if (json_object_get(root, "name")) {
        e = required_string(root, "name", 1, DC_NAME_MAX_BYTES + 64, &name, &name_len, msg, msg_len);
        if (e) return e;
        e = dc_label_normalize("name", name, name_len, r->name, msg, msg_len);
        if (e) return e;
    }

    if (!optional_string(root, "token", DC_JOIN_TOKEN_MAX_BYTES, &r->token, NULL))
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"token\" must be a string of at most %d bytes",
                    DC_JOIN_TOKEN_MAX_BYTES);
    return optional_int(root, "gallery", 0, DC_GALLERY_MAX, DC_GALLERY_DEFAULT, &r->gallery, msg, msg_len);
}

static dc_error_code parse_sdp_field(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    return required_string(root, "sdp", 1, DC_MAX_MESSAGE_BYTES, &r->sdp, &r->sdp_len, msg, msg_len);
}

static dc_error_code parse_subscribe_answer(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    json_t *v = json_object_get(root, "version");
    if (!v) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"version\"");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"version\" must be a positive integer");
    r->version = json_integer_value(v);
    return parse_sdp_field(root, r, msg, msg_len);
}

/* A string field that must be one of two names: *second is false for the first name. */
static dc_error_code required_choice(json_t *root, const char *field, const char *first_name, const char *second_name,
                                     bool *second, char *msg, size_t msg_len)
{
    const char *value;
    dc_error_code e = required_string(root, field, 1, 16, &value, NULL, msg, msg_len);
    if (e) return e;
    if (!strcmp(value, first_name) || !strcmp(value, second_name)) {
        *second = strcmp(value, second_name) == 0;
        return DC_OK;
    }
    return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"%s\" must be \"%s\" or \"%s\"", field, first_name, second_name);
}

static dc_error_code parse_pc(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    bool subscribe;
    dc_error_code e = required_choice(root, "pc", "publish", "subscribe", &subscribe, msg, msg_len);
    if (!e) r->pc = subscribe ? DC_PC_SUBSCRIBE : DC_PC_PUBLISH;
    return e;
}

/* ---- RFC 8839 section 5.1 candidate grammar ---------------------------------------- */

static bool all_of(const char *s, size_t len, bool (*ok)(char))
{
    for (size_t i = 0; i < len; i++)
        if (!ok(s[i])) return false;
    return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_ice_char(char c) { return is_alnum(c) || c == '+' || c == '/'; }
static bool is_host_char(char c) { return is_alnum(c) || c == '-' || c == '.'; }
static bool is_token_char(char c) { return is_alnum(c) || (c && strchr("-.!%*_+`'~", c)); }
static bool is_visible(char c) { return c > ' ' && c < 0x7f; }

/* 1..max_digits digits with a value in lo..hi */
static bool number_ok(const char *s, size_t len, size_t max_digits, unsigned long long lo, unsigned long long hi)
{
    if (len < 1 || len > max_digits || !all_of(s, len, is_digit)) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) v = v * 10 + (unsigned long long)(s[i] - '0');
    return v >= lo && v <= hi;
}

/* connection-address: an IPv4 or IPv6 address, or a host name (browsers hide their
 * addresses behind mDNS names such as 0ccb….local) */
static bool address_ok(const char *s, size_t len)
{
    char text[256];
    if (len < 1 || len >= sizeof text) return false;
    memcpy(text, s, len);
    text[len] = '\0';
    unsigned char bin[16];
    if (inet_pton(AF_INET, text, bin) == 1 || inet_pton(AF_INET6, text, bin) == 1) return true;
    return all_of(s, len, is_host_char) && s[0] != '.' && s[0] != '-' && !strstr(text, "..");
}

/* Why the candidate text is not candidate-attribute of RFC 8839 (as RTCIceCandidate.candidate
 * carries it, with "candidate:" and no "a="), or NULL when it is. Extensions after the type
 * come in name/value pairs; raddr and rport are checked as an address and a port, other
 * values only as visible ASCII. */
const char *dc_candidate_check(const char *s, size_t len)
{
    static const char prefix[] = "candidate:";
    if (len < sizeof prefix - 1 || memcmp(s, prefix, sizeof prefix - 1)) return "it must start with \"candidate:\"";
    s += sizeof prefix - 1;
    len -= sizeof prefix - 1;
    enum { FOUNDATION, COMPONENT, TRANSPORT, PRIORITY, ADDRESS, PORT, TYP, TYPE, N_FIXED };
    const char *name = NULL; /* of the extension whose value comes next */
    size_t name_len = 0, field = 0;
    for (size_t start = 0; start <= len; field++) {
        const char *f = s + start;
        const char *space = memchr(f, ' ', len - start);
        size_t n = space ? (size_t)(space - f) : len - start;
        start += n + 1;
        if (n == 0) return "fields are separated by single spaces";
        bool ok;
        switch (field) {
        case FOUNDATION: ok = n <= 32 && all_of(f, n, is_ice_char); break;
        case COMPONENT: ok = number_ok(f, n, 3, 1, 256); break;
        case TRANSPORT: ok = all_of(f, n, is_token_char); break;
        case PRIORITY: ok = number_ok(f, n, 10, 0, 4294967295ull); break;
        case ADDRESS: ok = address_ok(f, n); break;
        case PORT: ok = number_ok(f, n, 5, 0, 65535); break;
        case TYP: ok = n == 3 && !memcmp(f, "typ", 3); break;
        case TYPE: ok = all_of(f, n, is_token_char); break;
        default:
            if ((field - N_FIXED) % 2 == 0) { /* an extension's name */
                name = f;
                name_len = n;
                ok = all_of(f, n, is_token_char);
            } else if (name_len == 5 && !memcmp(name, "raddr", 5)) {
                ok = address_ok(f, n);
            } else if (name_len == 5 && !memcmp(name, "rport", 5)) {
                ok = number_ok(f, n, 5, 0, 65535);
            } else {
                ok = all_of(f, n, is_visible); /* byte-string, e.g. a ufrag with + and / */
            }
        }
        if (!ok) {
            static const char *const what[] = {"foundation (1-32 of A-Z a-z 0-9 + /)",
                                               "component (1-256)",
                                               "transport",
                                               "priority (0-4294967295)",
                                               "address",
                                               "port (0-65535)",
                                               "\"typ\"",
                                               "candidate type"};
            return field < N_FIXED ? what[field] : "extension (name value pairs)";
        }
    }
    if (field < N_FIXED) return "it ends before \"typ\" and the candidate type";
    if ((field - N_FIXED) % 2) return "extension (name value pairs)";
    return NULL;
}

/* The candidate itself is ignored (ICE-lite) but checked, so that a client bug shows up
 * as an error instead of silently. null means end of candidates, like "". */
static dc_error_code parse_candidate(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    dc_error_code e = parse_pc(root, r, msg, msg_len);
    if (e) return e;
    json_t *c = json_object_get(root, "candidate");
    if (!c) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"candidate\"");
    if (json_is_null(c)) return DC_OK;
    if (!json_is_object(c)) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"candidate\" must be an object");
    const char *text;
    size_t text_len;
    e = required_string(c, "candidate", 0, DC_CANDIDATE_MAX_BYTES, &text, &text_len, msg, msg_len);
    if (e) return e;
    const char *bad = text_len ? dc_candidate_check(text, text_len) : NULL;
    if (bad) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"candidate\" is not an RFC 8839 candidate: %s", bad);
    json_t *mid = json_object_get(c, "sdpMid");
    if (mid && !json_is_null(mid) && (!json_is_string(mid) || json_string_length(mid) > 32))
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"sdpMid\" must be a short string or null");
    json_t *index = json_object_get(c, "sdpMLineIndex");
    if (index && !json_is_null(index) &&
        (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 1023))
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"sdpMLineIndex\" must be an integer 0..1023 or null");
    return DC_OK;
}

static dc_error_code parse_mute(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    bool video;
    dc_error_code e = required_choice(root, "kind", "audio", "video", &video, msg, msg_len);
    if (e) return e;
    r->kind = video ? SFU_KIND_VIDEO : SFU_KIND_AUDIO;
    json_t *muted = json_object_get(root, "muted");
    if (!muted) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"muted\"");
    if (!json_is_boolean(muted)) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"muted\" must be a boolean");
    r->muted = json_is_true(muted);
    return DC_OK;
}

static dc_error_code parse_resume(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    return required_string(root, "resume_token", 1, DC_RESUME_TOKEN_MAX_BYTES, &r->resume_token, NULL, msg, msg_len);
}

static dc_error_code parse_publish(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    if (!optional_string(root, "screen_mid", 31, &r->screen_mid, NULL) || (r->screen_mid && !r->screen_mid[0]))
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"screen_mid\" must be a string of 1 to 31 bytes");
    return parse_sdp_field(root, r, msg, msg_len);
}

/* participant_id of the participant a request acts on; optional only for lower_hand. */
static dc_error_code parse_target(json_t *root, dc_request *r, bool required, char *msg, size_t msg_len)
{
    const char *id;
    size_t len;
    if (!required && !json_object_get(root, "participant_id")) return DC_OK;
    dc_error_code e = required_string(root, "participant_id", 1, DC_PARTICIPANT_ID_MAX_BYTES, &id, &len, msg, msg_len);
    if (e) return e;
    memcpy(r->participant_id, id, len + 1);
    return DC_OK;
}

static dc_error_code parse_seconds(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    return optional_int(root, "seconds", 0, DC_FLOOR_MAX_SECONDS, 0, &r->seconds, msg, msg_len);
}

static dc_error_code parse_grant_floor(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    dc_error_code e = parse_target(root, r, true, msg, msg_len);
    return e ? e : parse_seconds(root, r, msg, msg_len);
}

static dc_error_code parse_mute_participant(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    dc_error_code e = parse_target(root, r, true, msg, msg_len);
    return e ? e : parse_mute(root, r, msg, msg_len);
}

static dc_error_code parse_chat(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    dc_error_code e = required_string(root, "text", 1, DC_CHAT_MAX_BYTES, &r->text, &r->text_len, msg, msg_len);
    if (e) return e;
    if (!json_object_get(root, "to")) return DC_OK;
    return required_choice(root, "to", "all", "chair", &r->to_chair, msg, msg_len);
}

static dc_error_code parse_set_gallery(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    if (!json_object_get(root, "gallery")) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"gallery\"");
    return optional_int(root, "gallery", 0, DC_GALLERY_MAX, DC_GALLERY_DEFAULT, &r->gallery, msg, msg_len);
}

/* "qualities": {"<slot mid>": "off"|"low"|"medium"|"high", …} */
static dc_error_code parse_set_quality(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    static const char *const names[] = {"off", "low", "medium", "high"}; /* sfu_quality order */
    json_t *q = json_object_get(root, "qualities");
    if (!json_is_object(q) || json_object_size(q) == 0 || json_object_size(q) > DC_QUALITY_MAX_ENTRIES)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"qualities\" must be an object of 1 to %d slot mids",
                    DC_QUALITY_MAX_ENTRIES);
    const char *mid;
    json_t *v;
    json_object_foreach(q, mid, v)
    {
        size_t k = 0;
        while (k < 4 && !(json_is_string(v) && !strcmp(json_string_value(v), names[k]))) k++;
        if (k == 4 || !mid[0] || strlen(mid) >= sizeof r->qualities[0].mid)
            return fail(msg, msg_len, DC_ERR_BAD_REQUEST,
                        "\"qualities\" maps a slot mid to \"off\", \"low\", \"medium\" or \"high\"");
        snprintf(r->qualities[r->n_qualities].mid, sizeof r->qualities[0].mid, "%s", mid);
        r->qualities[r->n_qualities++].quality = (sfu_quality)k;
    }
    int tid;
    dc_error_code e = optional_int(root, "max_temporal_layer", 0, 3, 0xff, &tid, msg, msg_len);
    r->max_temporal_layer = (uint8_t)tid;
    return e;
}

static dc_error_code parse_id(json_t *root, dc_request *r, char *msg, size_t msg_len)
{
    json_t *id = json_object_get(root, "id");
    if (!id) return DC_OK;
    bool ok = json_is_integer(id) ||
              (json_is_string(id) && json_string_length(id) >= 1 && json_string_length(id) <= DC_REQUEST_ID_MAX_CHARS);
    if (!ok)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"id\" must be an integer or a string of 1 to %d bytes",
                    DC_REQUEST_ID_MAX_CHARS);
    r->id = json_incref(id);
    return DC_OK;
}

dc_error_code dc_request_parse(const char *text, size_t len, dc_request *out, char *msg, size_t msg_len)
{
    memset(out, 0, sizeof *out);
    if (msg_len) msg[0] = '\0';
    if (len > DC_MAX_MESSAGE_BYTES)
        return fail(msg, msg_len, DC_ERR_TOO_LARGE, "message larger than %d bytes", DC_MAX_MESSAGE_BYTES);
    json_error_t jerr;
    /* jansson checks UTF-8, refuses \u0000 in strings and caps nesting depth. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    /* valid JSON, but a NUL would cut any of our strings short: refused as a request */
    if (!root && json_error_code(&jerr) == json_error_null_character)
        return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "strings must not contain U+0000");
    if (!root) return fail(msg, msg_len, DC_ERR_BAD_JSON, "not JSON: %s", jerr.text);
    out->root = root;
    if (!json_is_object(root)) return fail(msg, msg_len, DC_ERR_BAD_JSON, "the message must be a JSON object");

    dc_error_code e = parse_id(root, out, msg, msg_len);
    if (e) return e;
    json_t *type = json_object_get(root, "type");
    if (!type) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "missing field \"type\"");
    if (!json_is_string(type)) return fail(msg, msg_len, DC_ERR_BAD_REQUEST, "\"type\" must be a string");
    const char *name = json_string_value(type);
    out->type = 0;
    for (size_t i = 0; i < sizeof request_types / sizeof request_types[0]; i++)
        if (!strcmp(request_types[i].name, name)) out->type = request_types[i].type;
    if (!out->type) {
        /* Echo at most a short prefix of what the client sent. */
        return fail(msg, msg_len, DC_ERR_UNKNOWN_TYPE, "unknown type \"%.32s\"", name);
    }

    switch (out->type) {
    case DC_REQ_JOIN: return parse_join(root, out, msg, msg_len);
    case DC_REQ_PUBLISH: return parse_publish(root, out, msg, msg_len);
    case DC_REQ_SUBSCRIBE_ANSWER: return parse_subscribe_answer(root, out, msg, msg_len);
    case DC_REQ_CANDIDATE: return parse_candidate(root, out, msg, msg_len);
    case DC_REQ_MUTE: return parse_mute(root, out, msg, msg_len);
    case DC_REQ_RESUME: return parse_resume(root, out, msg, msg_len);
    case DC_REQ_LOWER_HAND: return parse_target(root, out, false, msg, msg_len);
    case DC_REQ_GRANT_FLOOR: return parse_grant_floor(root, out, msg, msg_len);
    case DC_REQ_NEXT_FLOOR: return parse_seconds(root, out, msg, msg_len);
    case DC_REQ_MUTE_PARTICIPANT: return parse_mute_participant(root, out, msg, msg_len);
    case DC_REQ_REMOVE_PARTICIPANT: return parse_target(root, out, true, msg, msg_len);
    case DC_REQ_LOCK_ROOM: return required_bool(root, "locked", &out->flag, msg, msg_len);
    case DC_REQ_SET_ROOM_OPTIONS: return required_bool(root, "floor_may_share", &out->flag, msg, msg_len);
    case DC_REQ_CHAT: return parse_chat(root, out, msg, msg_len);
    case DC_REQ_SET_GALLERY: return parse_set_gallery(root, out, msg, msg_len);
    case DC_REQ_SET_QUALITY: return parse_set_quality(root, out, msg, msg_len);
    case DC_REQ_LEAVE:
    case DC_REQ_PING:
    case DC_REQ_RAISE_HAND:
    case DC_REQ_REVOKE_FLOOR:
    case DC_REQ_MUTE_DELEGATES:
    case DC_REQ_END_MEETING: return DC_OK;
    }
    return fail(msg, msg_len, DC_ERR_INTERNAL, "unhandled type");
}

void dc_request_clear(dc_request *req)
{
    json_decref(req->id);
    json_decref(req->root);
    memset(req, 0, sizeof *req);
}

json_t *dc_reply_ok(json_t *id)
{
    json_t *o = json_pack("{s:s}", "type", "ok");
    if (o && id) json_object_set(o, "id", id);
    return o;
}

json_t *dc_reply_error(json_t *id, dc_error_code code, const char *message)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", dc_error_code_name(code), "message",
                          message ? message : "");
    /* A message built from client input might not be valid UTF-8 once truncated. */
    if (!o) o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", dc_error_code_name(code), "message", "");
    if (o && id) json_object_set(o, "id", id);
    return o;
}

json_t *dc_event(const char *type) { return json_pack("{s:s}", "type", type); }

char *dc_json_take_text(json_t *msg, size_t *len)
{
    if (!msg) return NULL;
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text && len) *len = strlen(text);
    return text;
}

dc_error_code dc_message_buffer_append(dc_message_buffer *b, const void *data, size_t len)
{
    if (len > DC_MAX_MESSAGE_BYTES - b->len) return DC_ERR_TOO_LARGE;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return DC_ERR_INTERNAL;
        b->data = p;
        b->cap = cap;
    }
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    return DC_OK;
}

void dc_message_buffer_free(dc_message_buffer *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void dc_rate_limiter_init(dc_rate_limiter *rl, int rate, int burst, int64_t now_ms)
{
    rl->rate = rate;
    rl->burst = burst;
    rl->tokens_milli = (int64_t)burst * 1000;
    rl->last_ms = now_ms;
    rl->refused_in_row = 0;
}

bool dc_rate_limiter_allow(dc_rate_limiter *rl, int64_t now_ms)
{
    int64_t elapsed = now_ms - rl->last_ms;
    if (elapsed > 0) {
        /* Cap elapsed so the product cannot overflow after a long idle time. */
        if (elapsed > 3600 * 1000) elapsed = 3600 * 1000;
        rl->tokens_milli += elapsed * rl->rate;
        if (rl->tokens_milli > (int64_t)rl->burst * 1000) rl->tokens_milli = (int64_t)rl->burst * 1000;
        rl->last_ms = now_ms;
    }
    if (rl->tokens_milli < 1000) {
        if (rl->refused_in_row < DC_RATE_LIMIT_FLOOD_MESSAGES) rl->refused_in_row++;
        return false;
    }
    rl->tokens_milli -= 1000;
    rl->refused_in_row = 0;
    return true;
}

bool dc_rate_limiter_flooding(const dc_rate_limiter *rl) { return rl->refused_in_row >= DC_RATE_LIMIT_FLOOD_MESSAGES; }
