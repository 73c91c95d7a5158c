/* sconed's XDP modes: the offline run through the XDP program
 * (--datapath xdp) and the live fast path (--xdp IFACE,...). */
#ifndef SCONED_XDP_RUN_H
#define SCONED_XDP_RUN_H

#include "engine.h"
#include "options.h"

int sconed_xdp_offline(sconed_engine *e, const sconed_options *o);
int sconed_xdp_live(sconed_engine *e, const sconed_options *o);

#endif
