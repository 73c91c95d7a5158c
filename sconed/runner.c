#include "runner.h"

#include "control.h"
#include "dp.h"

#include <errno.h>
#include <string.h>
#include <systemd/sd-daemon.h>

/* Under systemd (Type=notify) READY=1 comes once the queue or relay socket
 * is bound, so a unit ordered after sconed, or its ExecStartPost that
 * installs the NFQUEUE rules, starts only when packets can be judged, and a
 * bad config or a queue another process holds fails `systemctl start`.
 * Without NOTIFY_SOCKET sd_notify does nothing. */
static int apply_store(void *arg, sconed_config *c) {
  return sconed_dp_apply(arg, c);
}

static int optin_store(void *arg, const char *const *prefixes,
                       const uint8_t *opt_in, size_t n) {
  return sconed_dp_set_optin_prefixes(arg, prefixes, opt_in, n);
}

static void log_store(void *arg, const char *msg) {
  (void)arg;
  sconed_dp_log("%s", msg);
}

/* The store's first read comes before the packet loop, so that the first
 * packets meet the store's policy; a store that does not answer leaves
 * the file's (fail-static from the start) while the thread keeps
 * trying. */
sconed_policy_store *sconed_runner_start_store(sconed_dp *dp,
                                               const sconed_options *o) {
  char err[512];
  sconed_policy_store_settings ps = {.url = o->policy_store,
                                     .ns = o->policy_ns,
                                     .config_path = o->config,
                                     .apply = apply_store,
                                     .optin = optin_store,
                                     .log = log_store,
                                     .arg = dp};
  sconed_policy_store *st = sconed_policy_store_new(&ps, err, sizeof(err));
  if (!st) {
    sconed_dp_log("%s", err);
    return NULL;
  }
  if (sconed_policy_store_sync(st, err, sizeof(err)) < 0)
    sconed_dp_log("policy: %s; running the %s until the store answers", err,
                  o->config ? "config file's policy" : "empty policy");
  if (sconed_policy_store_run(st) < 0) {
    sconed_dp_log("policy: cannot start the store's thread");
    sconed_policy_store_free(st);
    return NULL;
  }
  return st;
}

static void notify_systemd(const char *state) {
  (void)sd_notify(0, state);
}

int sconed_runner_run(sconed_engine *e, const sconed_options *o) {
  return sconed_runner_run_with(e, o, NULL);
}

int sconed_runner_run_with(sconed_engine *e, const sconed_options *o,
                           const sconed_dp_hooks *hooks) {
  int nfqueue = o->mode == SCONED_MODE_NFQUEUE;
  if (!nfqueue && o->mode != SCONED_MODE_RELAY)
    return 2;
  sconed_dp dp;
  sconed_dp_init(&dp, e, o->config);
  dp.mode = nfqueue ? "nfqueue" : "relay";
  dp.notify = notify_systemd;
  dp.hooks = hooks;
  /* Before the control thread exists, so that it inherits the mask and
   * every signal reaches the packet thread's signalfd. */
  if (sconed_dp_signals_open(&dp) < 0) {
    sconed_dp_log("signals: %s", strerror(errno));
    sconed_dp_destroy(&dp);
    return 1;
  }
  if (o->policy_store && !(dp.policy = sconed_runner_start_store(&dp, o))) {
    sconed_dp_destroy(&dp);
    return 1;
  }
  sconed_control *ctl = NULL;
  if (o->control) {
    ctl = sconed_control_start(&dp, o->control, o->control_any,
                               o->control_token_file);
    if (!ctl) {
      sconed_policy_store_free(dp.policy);
      sconed_dp_destroy(&dp);
      return 1;
    }
  }
  int r =
      nfqueue ? sconed_nfq_run(&dp, &o->nfq) : sconed_relay_run(&dp, &o->relay);
  sconed_control_stop(ctl);
  sconed_policy_store_free(dp.policy);
  sconed_dp_destroy(&dp);
  return r == 0 ? 0 : 1;
}
