/*
 * The end-of-run summary of the offline datapath, as text or JSON. Per plan
 * and engine-wide figures only: no addresses, no subscriber.
 */
#ifndef SCONED_SUMMARY_H
#define SCONED_SUMMARY_H

#include "engine.h"
#include "pcap_path.h"

#include <stdio.h>

void sconed_summary_print(FILE *out, const sconed_engine *e,
                          const sconed_pcap_counts *c, int json);

#endif
