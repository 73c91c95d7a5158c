/*
 * The live run: sets up the datapath's shared context, the signals and
 * (with --control) the control endpoint, then runs one packet loop,
 * NFQUEUE or relay, until SIGINT or SIGTERM. SIGHUP and POST /reload load
 * the config file again and swap it in, keeping the old one on any error.
 */
#ifndef SCONED_RUNNER_H
#define SCONED_RUNNER_H

#include "dp.h"
#include "engine.h"
#include "options.h"

/* Runs o->mode (SCONED_MODE_NFQUEUE or SCONED_MODE_RELAY) on e, which
 * stays the caller's. Returns a process exit status. */
int sconed_runner_run(sconed_engine *e, const sconed_options *o);
/* Same with an element in front of the engine (NULL: none). */
int sconed_runner_run_with(sconed_engine *e, const sconed_options *o,
                           const sconed_dp_hooks *hooks);

/* Reads o->policy_store once and starts its thread, which swaps each
 * change in through dp (sconed_dp_apply: dp's hooks' set_config when it
 * has hooks). NULL, logged, when the store cannot be set up. */
sconed_policy_store *sconed_runner_start_store(sconed_dp *dp,
                                               const sconed_options *o);

#endif
