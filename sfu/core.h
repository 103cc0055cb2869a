/* One worker's engine without its socket or thread: commands change its tables,
 * datagrams go in with the clock the owner gives (core->now_us), datagrams to send
 * collect in core->tx (a full batch goes to the owner's tx_full), events in
 * core->events. Nothing here sleeps or touches a socket, so tests drive it in memory.
 * Internal to sfu/. */
#ifndef SFU_CORE_H
#define SFU_CORE_H

#include "types.h"

/* A control command from the signaling thread, applied between receive batches. */
typedef enum {
    SFU_CMD_TRANSPORT_ADD,
    SFU_CMD_TRANSPORT_SET_PEER,
    SFU_CMD_TRANSPORT_REMOVE,
    SFU_CMD_TRANSPORT_SET_TWCC,
    SFU_CMD_STREAM_ADD,
    SFU_CMD_STREAM_REMOVE,
    SFU_CMD_STREAM_SET_FORWARDING,
    SFU_CMD_SLOT_ADD,
    SFU_CMD_SLOT_POINT,
    SFU_CMD_SLOT_REMOVE,
    SFU_CMD_SLOT_SET_QUALITY,
    SFU_CMD_TCP_ADOPT, /* for the worker, not the core: an ICE-TCP socket and its first frame */
    SFU_CMD_SLOT_SET_RTX,
    SFU_CMD_TRANSPORT_SET_TWCC_FEEDBACK,
    SFU_CMD_SLOT_SET_PRIORITY,
    SFU_CMD_TRANSPORT_SET_BUDGET,
    SFU_CMD_SLOT_SET_RED,
} sfu_cmd_type;

typedef struct {
    sfu_cmd_type type;
    uint32_t id, room_id, target_id; /* target: transport of a slot, stream of a pointing */
    sfu_kind kind;
    uint32_t ssrc;
    uint8_t pt;
    uint8_t ext_id; /* transport_set_twcc, transport_set_twcc_feedback */
    bool dtls_client;
    bool forward;             /* stream_set_forwarding: the gate opens */
    uint8_t quality, max_tid; /* slot_set_quality */
    uint8_t priority;         /* slot_set_priority */
    uint32_t budget_bps;      /* transport_set_budget */
    char ufrag[SFU_ICE_UFRAG_MAX + 1], pwd[128], fingerprint[160];
    sfu_stream_desc stream;
    /* tcp_adopt: the socket, its peer and its first frame (malloc'd; the worker owns both) */
    int tcp_fd;
    struct sockaddr_storage tcp_peer;
    socklen_t tcp_peer_len;
    uint8_t *tcp_frame;
    size_t tcp_frame_len;
    sfu_slot_rtx rtx;
} sfu_cmd;

/* NULL if memory or a helper thread could not be had. */
sfu_core *sfu_core_new(const sfu_core_settings *cfg, sfu_tx_full_fn tx_full, void *tx_full_user);
void sfu_core_free(sfu_core *c);
/* A command that cannot be applied is reported as SFU_EV_COMMAND_FAILED; removing what
 * is already gone is not a failure. */
void sfu_core_apply(sfu_core *c, const sfu_cmd *cmd);
/* One received datagram (RFC 7983 demultiplexing); `late`: it waited longer than the
 * queue delay allows (RTP is then dropped). The buffer must stay valid until
 * sfu_core_end_batch. */
void sfu_core_on_datagram(sfu_core *c, uint8_t *buf, size_t len, const struct sockaddr_storage *from,
                          socklen_t from_len, bool late);
/* An ICE-TCP connection of the owner closed: a transport bound to it ends as if its
 * consent were lost. */
void sfu_core_on_tcp_closed(sfu_core *c, uint32_t conn_id, const char *why);
void sfu_core_end_batch(sfu_core *c);            /* fans out what the batch queued */
void sfu_core_tick(sfu_core *c, int64_t now_us); /* timers: DTLS, consent, REMB */

#endif
