/* Role and grant names and the grants each role has by default (roles.h). */
#include "roles.h"

#include <string.h>

static const char *const role_names[DC_ROLE_COUNT] = {
    [DC_ROLE_CHAIR] = "chair",
    [DC_ROLE_OFFICIAL] = "official",
    [DC_ROLE_DELEGATE] = "delegate",
    [DC_ROLE_OBSERVER] = "observer",
};

static const struct {
    dc_grants grant;
    const char *name;
} grant_names[] = {
    {DC_GRANT_PUBLISH, "publish"},           {DC_GRANT_SUBSCRIBE, "subscribe"}, {DC_GRANT_SPEAK, "speak"},
    {DC_GRANT_SHARE_SCREEN, "share_screen"}, {DC_GRANT_MODERATE, "moderate"},
};

const char *dc_role_name(dc_role role) { return (unsigned)role < DC_ROLE_COUNT ? role_names[role] : "unknown"; }

bool dc_role_parse(const char *name, dc_role *out)
{
    for (int r = 0; r < DC_ROLE_COUNT; r++) {
        if (!strcmp(name, role_names[r])) {
            *out = (dc_role)r;
            return true;
        }
    }
    return false;
}

dc_grants dc_role_default_grants(dc_role role)
{
    switch (role) {
    case DC_ROLE_CHAIR: return DC_GRANTS_ALL;
    case DC_ROLE_OFFICIAL: return DC_GRANT_PUBLISH | DC_GRANT_SUBSCRIBE | DC_GRANT_SPEAK | DC_GRANT_SHARE_SCREEN;
    case DC_ROLE_DELEGATE: return DC_GRANT_PUBLISH | DC_GRANT_SUBSCRIBE;
    case DC_ROLE_OBSERVER: return DC_GRANT_SUBSCRIBE;
    default: return 0;
    }
}

const char *dc_grant_name(dc_grants single)
{
    for (size_t i = 0; i < sizeof grant_names / sizeof grant_names[0]; i++)
        if (grant_names[i].grant == single) return grant_names[i].name;
    return NULL;
}

bool dc_grant_parse(const char *name, dc_grants *out)
{
    for (size_t i = 0; i < sizeof grant_names / sizeof grant_names[0]; i++) {
        if (!strcmp(name, grant_names[i].name)) {
            *out = grant_names[i].grant;
            return true;
        }
    }
    return false;
}
