/*
 * Settings defaults and the advice-to-media-cap conversion every player
 * helper builds on.
 */
#include "internal.h"

void scone_app_settings_default(scone_app_settings *s) {
  s->version = SCONE_APP_SETTINGS_V1;
  s->overhead_margin_pct = SCONE_APP_DEFAULT_OVERHEAD_MARGIN_PCT;
  s->netinfo_change_pct = 10;
  s->netinfo_min_interval = SCONE_SECONDS;
  s->save_data = 0;
}

int scone_app_settings_resolve(scone_app_settings *dst,
                               const scone_app_settings *src) {
  scone_app_settings_default(dst);
  if (!src)
    return 0;
  /* A version this library was not built with could have a layout that
   * differs from the one read here: refused rather than half read. */
  if (src->version != SCONE_APP_SETTINGS_V1)
    return SCONE_ERR_INVALID_ARGUMENT;
  *dst = *src;
  if (dst->overhead_margin_pct > SCONE_APP_MAX_OVERHEAD_MARGIN_PCT)
    dst->overhead_margin_pct = SCONE_APP_MAX_OVERHEAD_MARGIN_PCT;
  return 0;
}

int scone_app_advice_known(const scone_advice *a) {
  return a && a->signal <= SCONE_SIGNAL_MAX && a->bps > 0;
}

int scone_app_media_cap_bps(uint64_t *cap_bps, const scone_advice *advice,
                            const scone_app_settings *settings) {
  *cap_bps = 0;
  scone_app_settings s;
  int rc = scone_app_settings_resolve(&s, settings);
  if (rc < 0 || !scone_app_advice_known(advice))
    return rc;
  uint64_t keep = 100 - s.overhead_margin_pct;
  /* Split so that no rate can overflow the multiplication. */
  *cap_bps = advice->bps / 100 * keep + advice->bps % 100 * keep / 100;
  return 0;
}
