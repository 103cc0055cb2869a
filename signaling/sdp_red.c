/* RFC 2198 RED in an offer (see sdp.h, dc_sdp_red_pt). */
#include <glib.h>
#include <string.h>

#include "sdp.h"

/* "p/p/…": one or more blocks, each the primary's payload type. */
static bool red_blocks_are(const char *fmtp, uint8_t primary)
{
    const char *q = fmtp;
    for (;;) {
        unsigned v = 0;
        size_t digits = 0;
        for (; *q >= '0' && *q <= '9' && digits < 3; q++, digits++) v = v * 10 + (unsigned)(*q - '0');
        if (digits == 0 || v != primary) return false;
        if (*q == '\0') return true;
        if (*q++ != '/') return false;
    }
}

int dc_sdp_red_pt(const dc_sdp_media *m, uint8_t primary)
{
    for (size_t i = 0; i < m->n_codecs && i < DC_SDP_MAX_CODECS; i++) {
        const dc_sdp_codec *c = &m->codecs[i];
        if (g_ascii_strcasecmp(c->name, "red") || c->clock != 48000 || c->channels != 2) continue;
        if (memchr(c->fmtp, '\0', sizeof c->fmtp) && red_blocks_are(c->fmtp, primary)) return c->pt;
    }
    return -1;
}
