/* A text message on its way to one or more WebSockets: one allocation, shared by every
 * recipient of a broadcast (reference-counted), with the headroom in front that
 * libwebsockets writes the WebSocket header into (LWS_PRE). A join in a room of N sends
 * one event to N − 1 others; shared, that is one copy instead of N − 1, which matters when
 * a province session links hundreds of sites at once. Signaling thread only. */
#ifndef DC_FRAME_H
#define DC_FRAME_H

#include <stddef.h>

typedef struct dc_frame dc_frame;

/* Copies text; one reference. NULL if out of memory. */
dc_frame *dc_frame_new(const char *text, size_t len);
dc_frame *dc_frame_ref(dc_frame *f);
void dc_frame_unref(dc_frame *f);
size_t dc_frame_len(const dc_frame *f);
/* The text; LWS_PRE writable bytes precede it. */
unsigned char *dc_frame_payload(dc_frame *f);

#endif
