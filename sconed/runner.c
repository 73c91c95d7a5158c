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
static void notify_systemd(const char *state) {
  (void)sd_notify(0, state);
}

int sconed_runner_run(sconed_engine *e, const sconed_options *o) {
  return sconed_runner_run_with(e, o, NULL, NULL, NULL, NULL);
}

int sconed_runner_run_with(sconed_engine *e, const sconed_options *o,
                           sconed_process_fn process,
                           int (*set_config)(void *arg, sconed_config *c),
                           size_t (*metrics)(void *arg, char *out, size_t cap),
                           void *hook_arg) {
  int nfqueue = o->mode == SCONED_MODE_NFQUEUE;
  if (!nfqueue && o->mode != SCONED_MODE_RELAY)
    return 2;
  sconed_dp dp;
  sconed_dp_init(&dp, e, o->config);
  dp.mode = nfqueue ? "nfqueue" : "relay";
  dp.notify = notify_systemd;
  dp.process = process;
  dp.set_config = set_config;
  dp.metrics = metrics;
  dp.hook_arg = hook_arg;
  /* Before the control thread exists, so that it inherits the mask and
   * every signal reaches the packet thread's signalfd. */
  if (sconed_dp_signals_open(&dp) < 0) {
    sconed_dp_log("signals: %s", strerror(errno));
    sconed_dp_destroy(&dp);
    return 1;
  }
  sconed_control *ctl = NULL;
  if (o->control) {
    ctl = sconed_control_start(&dp, o->control, o->control_any);
    if (!ctl) {
      sconed_dp_destroy(&dp);
      return 1;
    }
  }
  int r =
      nfqueue ? sconed_nfq_run(&dp, &o->nfq) : sconed_relay_run(&dp, &o->relay);
  sconed_control_stop(ctl);
  sconed_dp_destroy(&dp);
  return r == 0 ? 0 : 1;
}
