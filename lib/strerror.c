/* Error names for the SCONE_ERR_* codes. */
#include <scone/scone.h>

const char *scone_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
  case SCONE_ERR_TRUNCATED:
    return "input ends inside a field";
  case SCONE_ERR_NOT_SCONE:
    return "not a SCONE packet";
  case SCONE_ERR_INVALID_ARGUMENT:
    return "invalid argument";
  case SCONE_ERR_NOBUF:
    return "output buffer too small";
  case SCONE_ERR_TRANSPORT_PARAMETER:
    return "transport parameter error";
  case SCONE_ERR_MALFORMED:
    return "malformed input";
  case SCONE_ERR_NOT_QUIC:
    return "does not follow the QUIC invariants";
  case SCONE_ERR_NOT_UDP:
    return "not a UDP packet";
  case SCONE_ERR_FRAGMENT:
    return "a fragment of a UDP datagram";
  case SCONE_ERR_NOT_IP:
    return "not an IP packet";
  default:
    return "unknown error";
  }
}
