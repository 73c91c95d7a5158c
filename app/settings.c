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

void scone_app_settings_resolve(scone_app_settings *dst,
                                const scone_app_settings *src) {
  /* Version 0 is an unset struct: treat it as "use the defaults" rather than
   * as a request for a zero margin. Later versions extend V1's layout. */
  if (!src || src->version < SCONE_APP_SETTINGS_V1) {
    scone_app_settings_default(dst);
    return;
  }
  *dst = *src;
  dst->version = SCONE_APP_SETTINGS_V1;
  if (dst->overhead_margin_pct > SCONE_APP_MAX_OVERHEAD_MARGIN_PCT)
    dst->overhead_margin_pct = SCONE_APP_MAX_OVERHEAD_MARGIN_PCT;
}

int scone_app_advice_known(const scone_advice *a) {
  return a && a->signal <= SCONE_SIGNAL_MAX && a->bps > 0;
}

uint64_t scone_app_media_cap_bps(const scone_advice *advice,
                                 const scone_app_settings *settings) {
  if (!scone_app_advice_known(advice))
    return 0;
  scone_app_settings s;
  scone_app_settings_resolve(&s, settings);
  uint64_t keep = 100 - s.overhead_margin_pct;
  /* Split so that no rate can overflow the multiplication. */
  return advice->bps / 100 * keep + advice->bps % 100 * keep / 100;
}
