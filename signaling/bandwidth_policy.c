/* Priority classes and site budgets (bandwidth_policy.h). */
#include "bandwidth_policy.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static const char *const class_names[DC_PRIO_CLASSES] = {"screen", "floor", "chair", "gallery"};

bool dc_priority_parse(const char *text, uint8_t rank[DC_PRIO_CLASSES], char *err, size_t err_len)
{
    bool seen[DC_PRIO_CLASSES] = {false};
    size_t n = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ", ");
        int found = -1;
        for (int c = 0; c < DC_PRIO_CLASSES && len; c++)
            if (strlen(class_names[c]) == len && !strncmp(p, class_names[c], len)) found = c;
        if (len && (found < 0 || seen[found])) {
            snprintf(err, err_len, "slot_priority: \"%.*s\" is %s (use screen, floor, chair, gallery once each)",
                     (int)(len > 20 ? 20 : len), p, found < 0 ? "not a class" : "named twice");
            return false;
        }
        if (len) {
            seen[found] = true;
            rank[found] = (uint8_t)n++;
        }
        p += len;
        while (*p == ',' || *p == ' ') p++;
    }
    if (n != DC_PRIO_CLASSES) {
        snprintf(err, err_len, "slot_priority: name all of screen, floor, chair, gallery (in the order wanted)");
        return false;
    }
    return true;
}

struct dc_site_budgets {
    GHashTable *kbps; /* site (owned) → kbit/s */
    uint32_t tier_kbps[DC_CONFIG_TIERS];
};

dc_site_budgets *dc_site_budgets_new(const dc_config *cfg)
{
    dc_site_budgets *b = g_new0(dc_site_budgets, 1);
    b->kbps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; cfg && i < cfg->n_site_budgets; i++)
        dc_site_budgets_set(b, cfg->site_budgets[i].site, (uint32_t)cfg->site_budgets[i].kbps);
    for (int t = 0; cfg && t < DC_CONFIG_TIERS; t++) b->tier_kbps[t] = (uint32_t)cfg->tier_budgets[t];
    return b;
}

void dc_site_budgets_free(dc_site_budgets *b)
{
    if (!b) return;
    g_hash_table_destroy(b->kbps);
    g_free(b);
}

bool dc_site_budgets_set(dc_site_budgets *b, const char *site, uint32_t kbps)
{
    if (!site[0] || strlen(site) >= DC_CONFIG_SITE_NAME_MAX) return false;
    if (kbps) g_hash_table_replace(b->kbps, g_strdup(site), GUINT_TO_POINTER(kbps));
    else g_hash_table_remove(b->kbps, site);
    return true;
}

uint32_t dc_site_budgets_own(const dc_site_budgets *b, const char *site)
{
    return site[0] ? GPOINTER_TO_UINT(g_hash_table_lookup(b->kbps, site)) : 0;
}

bool dc_site_budgets_set_tier(dc_site_budgets *b, int tier, uint32_t kbps)
{
    if (tier < 0 || tier >= DC_CONFIG_TIERS) return false;
    b->tier_kbps[tier] = kbps;
    return true;
}

uint32_t dc_site_budgets_tier(const dc_site_budgets *b, int tier)
{
    return tier >= 0 && tier < DC_CONFIG_TIERS ? b->tier_kbps[tier] : 0;
}

uint32_t dc_site_budgets_for(const dc_site_budgets *b, const char *site, int tier)
{
    uint32_t own = dc_site_budgets_own(b, site);
    return own || !site[0] ? own : dc_site_budgets_tier(b, tier);
}

uint32_t dc_site_budget_share_bps(uint32_t kbps, size_t n)
{
    uint64_t bps = (uint64_t)kbps * 1000 / (n ? n : 1);
    return bps ? (bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps) : 1;
}
