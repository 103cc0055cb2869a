/* Roles and grants of the province meeting (issue 11). A join token names a role and may
 * narrow or widen its grants; the server enforces the grants, whatever a page shows. */
#ifndef DC_ROLES_H
#define DC_ROLES_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    DC_ROLE_CHAIR = 0, /* presides: moderates, speaks freely */
    DC_ROLE_OFFICIAL,  /* speaks freely */
    DC_ROLE_DELEGATE,  /* a site: video always, audio only while holding the floor */
    DC_ROLE_OBSERVER,  /* receives only */
    DC_ROLE_COUNT
} dc_role;

/* Grants, a bit set. */
enum {
    DC_GRANT_PUBLISH = 1u << 0,      /* may send media at all (video; audio needs speak or the floor) */
    DC_GRANT_SUBSCRIBE = 1u << 1,    /* receives the room's media */
    DC_GRANT_SPEAK = 1u << 2,        /* audio forwarded without holding the floor */
    DC_GRANT_SHARE_SCREEN = 1u << 3, /* may share a screen */
    DC_GRANT_MODERATE = 1u << 4,     /* chair's controls: floor, mute, remove, lock, end */
};
typedef uint32_t dc_grants;
#define DC_GRANTS_ALL \
    (DC_GRANT_PUBLISH | DC_GRANT_SUBSCRIBE | DC_GRANT_SPEAK | DC_GRANT_SHARE_SCREEN | DC_GRANT_MODERATE)

const char *dc_role_name(dc_role role); /* "chair", "official", "delegate", "observer" */
bool dc_role_parse(const char *name, dc_role *out);
/* chair: all; official: publish, subscribe, speak, share_screen; delegate: publish,
 * subscribe; observer: subscribe. */
dc_grants dc_role_default_grants(dc_role role);
const char *dc_grant_name(dc_grants single); /* "publish", "subscribe", "speak", "share_screen", "moderate" */
bool dc_grant_parse(const char *name, dc_grants *out);

#endif
