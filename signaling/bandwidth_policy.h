/* What the server spends a subscriber's downstream bandwidth on (issue 12 §5), as
 * signaling decides it; the engine's allocator (sfu_transport_set_budget,
 * sfu_slot_set_priority) does the spending.
 *
 *  - Priority classes: the order video slots get bandwidth in after audio, from a text
 *    like "screen,floor,chair,gallery" (config slot_priority; slides first is the
 *    meetings' default). A room could carry its own (the room tree of issue 13).
 *  - Site budgets: kbit/s per site (the join token's `site`), from the config and from
 *    technicians at run time (PUT/DELETE /admin/sites/<site>/budget); a site's
 *    participants share it equally.
 *  - Tier budgets: kbit/s for every site of a tier (the room tree's node kind of the room
 *    joined: province, district, commune, reception), from config tier_budgets and
 *    PUT/DELETE /admin/tiers/<tier>/budget; a site's own budget wins over its tier's.
 *    dc_site_budgets_for is the one place that answers "what may this site's people
 *    receive". */
#ifndef DC_BANDWIDTH_POLICY_H
#define DC_BANDWIDTH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef enum { DC_PRIO_SCREEN, DC_PRIO_FLOOR, DC_PRIO_CHAIR, DC_PRIO_GALLERY, DC_PRIO_CLASSES } dc_priority_class;

/* rank[class]: 0 most important. Every class named exactly once; false with a reason. */
bool dc_priority_parse(const char *text, uint8_t rank[DC_PRIO_CLASSES], char *err, size_t err_len);

typedef struct dc_site_budgets dc_site_budgets;
dc_site_budgets *dc_site_budgets_new(const dc_config *cfg); /* the config's budgets */
void dc_site_budgets_free(dc_site_budgets *b);
/* kbps 0 clears. Returns false for an empty or too long site name. */
bool dc_site_budgets_set(dc_site_budgets *b, const char *site, uint32_t kbps);
/* The site's own budget (kbit/s); 0: none. */
uint32_t dc_site_budgets_own(const dc_site_budgets *b, const char *site);
/* tier: a dc_node_kind (room_tree.h); kbps 0 clears. False for an unknown tier. */
bool dc_site_budgets_set_tier(dc_site_budgets *b, int tier, uint32_t kbps);
uint32_t dc_site_budgets_tier(const dc_site_budgets *b, int tier); /* 0: none or unknown */
/* The budget (kbit/s) the site's participants share, the site's own else its tier's (tier
 * < 0: a room outside the tree, no tier); 0: none. An empty site has none. */
uint32_t dc_site_budgets_for(const dc_site_budgets *b, const char *site, int tier);
/* One participant's share in bit/s of a site budget of kbps shared by n (≥ 1). */
uint32_t dc_site_budget_share_bps(uint32_t kbps, size_t n);

#endif
