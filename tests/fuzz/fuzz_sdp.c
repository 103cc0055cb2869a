/* Fuzz target for the SDP parser: arbitrary bytes are parsed; whatever parses is
 * answered as a publish offer, and an answer that accepted something must itself parse
 * (the writer never emits SDP our own parser refuses). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sdp.h"

static const dc_sdp_local FUZZ_LOCAL = {
    .ice_ufrag = "fuzz",
    .ice_pwd = "fuzzpassword0123456789ab",
    .fingerprint = "6B:85:B9:EA:7B:F6:F5:F2:9D:06:82:11:09:A2:BE:99:37:E1:4F:EE:86:F4:5B:93:CA:12:E4:07:33:FA:C8:EF",
    .candidate_ip = "192.0.2.1",
    .candidate_port = 40000,
    .session_id = 1,
    .session_version = 1,
};

static void check_answer_parses(const char *answer, const dc_codec_id picked[DC_SDP_MAX_MEDIA])
{
    size_t accepted = 0;
    for (size_t i = 0; i < DC_SDP_MAX_MEDIA; i++) accepted += picked[i] != DC_CODEC_NONE;
    if (accepted == 0) return; /* all rejected: no BUNDLE group, legitimately not re-parsable */
    static dc_sdp back;
    char err[256];
    size_t len = 0;
    while (answer[len]) len++;
    if (!dc_sdp_parse(answer, len, &back, err, sizeof err)) {
        fprintf(stderr, "own answer does not parse: %s\n%s\n", err, answer);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dc_sdp offer; /* ~300 KiB: not on the stack */
    char err[256];
    if (!dc_sdp_parse((const char *)data, size, &offer, err, sizeof err)) return 0;
    dc_codec_id picked[DC_SDP_MAX_MEDIA];
    uint8_t picked_pt[DC_SDP_MAX_MEDIA];
    char *answer = dc_sdp_write_publish_answer(&offer, &FUZZ_LOCAL, picked, picked_pt);
    if (answer) check_answer_parses(answer, picked);
    free(answer);
    return 0;
}
