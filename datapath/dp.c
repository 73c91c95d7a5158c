#include "dp.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

void sconed_dp_log(const char *fmt, ...) {
  char line[1024] = "sconed: ";
  size_t n = strlen(line);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
  va_end(ap);
  n = strlen(line);
  line[n++] = '\n';
  /* One write per line so lines from two threads never interleave. */
  if (write(STDERR_FILENO, line, n) < 0)
    return;
}

void sconed_dp_notify(sconed_dp *dp, const char *fmt, ...) {
  if (!dp->notify)
    return;
  char state[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(state, sizeof(state), fmt, ap);
  va_end(ap);
  dp->notify(state);
}

void sconed_dp_judge(sconed_dp *dp, uint8_t *const *pkts, const size_t *lens,
                     size_t n, scone_tstamp now, sconed_verdict *v) {
  const sconed_dp_hooks *h = dp->hooks;
  if (h)
    for (size_t i = 0; i < n; i++)
      h->process(h->arg, pkts[i], lens[i], now, &v[i]);
  else
    sconed_engine_process_ip_batch(dp->engine, pkts, lens, n, now, v);
}

int sconed_dp_init(sconed_dp *dp, sconed_engine *e, const char *config_path) {
  memset(dp, 0, sizeof(*dp));
  dp->engine = e;
  dp->config_path = config_path;
  dp->sigfd = -1;
  dp->stopfd = -1;
  dp->started = sconed_dp_now();
  atomic_init(&dp->ctl_waiting, 0);
  pthread_mutex_init(&dp->lock, NULL);
  return 0;
}

void sconed_dp_destroy(sconed_dp *dp) {
  if (dp->sigfd >= 0)
    close(dp->sigfd);
  dp->sigfd = -1;
  pthread_mutex_destroy(&dp->lock);
}

/* Every config change goes in here, under the lock: through the element
 * in front of the engine when there is one (it takes what it needs, as
 * the legacy element's server names, and hands the rest on), so a change
 * from the store or the control reaches it as a reload does. */
static int swap_locked(sconed_dp *dp, sconed_config *c) {
  return dp->hooks ? dp->hooks->set_config(dp->hooks->arg, c)
                   : sconed_engine_set_config(dp->engine, c);
}

int sconed_dp_apply(sconed_dp *dp, sconed_config *c) {
  sconed_dp_lock_ctl(dp);
  int r = swap_locked(dp, c);
  sconed_dp_unlock_ctl(dp);
  return r;
}

int sconed_dp_set_optin(sconed_dp *dp, int family, const uint8_t *addr,
                        int opt_in) {
  sconed_dp_lock_ctl(dp);
  const sconed_config *run = sconed_engine_config(dp->engine);
  sconed_config *c = run ? sconed_config_clone(run) : NULL;
  int r = c ? sconed_config_set_optin(c, family, addr, opt_in) : -2;
  if (r == 1) {
    /* The flows re-resolve on their next packet, so the entry's advice
     * starts or stops with the flows' next SCONE packets. */
    if (swap_locked(dp, c) < 0)
      r = -2;
    else
      dp->c.optin_changes++;
  } else {
    sconed_config_free(c);
  }
  sconed_dp_unlock_ctl(dp);
  return r;
}

int sconed_dp_set_optin_prefixes(sconed_dp *dp, const char *const *prefixes,
                                 const uint8_t *opt_in, size_t n) {
  sconed_dp_lock_ctl(dp);
  const sconed_config *run = sconed_engine_config(dp->engine);
  sconed_config *c = run ? sconed_config_clone(run) : NULL;
  int r = c ? 0 : -1;
  for (size_t i = 0; i < n && r == 0; i++)
    if (sconed_config_set_optin_prefix(c, prefixes[i], opt_in[i]) < 0)
      r = -1;
  if (r == 0)
    r = swap_locked(dp, c);
  else
    sconed_config_free(c);
  sconed_dp_unlock_ctl(dp);
  return r;
}

int sconed_dp_reload(sconed_dp *dp, char *err, size_t errlen) {
  sconed_config *c = NULL;
  if (dp->policy)
    c = sconed_policy_store_build(dp->policy, err, errlen);
  else if (dp->config_path)
    c = sconed_config_load(dp->config_path, err, errlen);
  else
    snprintf(err, errlen, "no config file to reload (started without one)");
  sconed_dp_lock_ctl(dp);
  int ret = c ? swap_locked(dp, c) : -1;
  if (ret == 0)
    dp->c.reloads++;
  else
    dp->c.reload_errors++;
  sconed_dp_unlock_ctl(dp);
  return ret;
}

int sconed_dp_signals_open(sconed_dp *dp) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
    return -1;
  dp->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  return dp->sigfd < 0 ? -1 : 0;
}

int sconed_dp_signals_handle(sconed_dp *dp) {
  int stop = 0;
  uint64_t v;
  if (dp->stopfd >= 0 && read(dp->stopfd, &v, sizeof(v)) == sizeof(v))
    stop = 1;
  struct signalfd_siginfo si;
  while (dp->sigfd >= 0 && read(dp->sigfd, &si, sizeof(si)) == sizeof(si)) {
    if (si.ssi_signo == SIGHUP) {
      char err[512];
      sconed_dp_notify(dp, "RELOADING=1");
      if (sconed_dp_reload(dp, err, sizeof(err)) == 0) {
        sconed_dp_log("reloaded %s", dp->config_path);
        sconed_dp_notify(dp, "READY=1\nSTATUS=reloaded %s", dp->config_path);
      } else {
        sconed_dp_log("reload failed, keeping the running config: %s", err);
        sconed_dp_notify(dp, "READY=1\nSTATUS=reload failed: %s", err);
      }
    } else {
      sconed_dp_log("signal %u: stopping", si.ssi_signo);
      sconed_dp_notify(dp, "STOPPING=1");
      stop = 1;
    }
  }
  return stop;
}
