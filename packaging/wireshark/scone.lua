-- SCONE for Wireshark and tshark (3.6 and later): draft-ietf-scone-protocol.
--
-- The SCONE packet that leads a UDP datagram (both versions: 0x6f7dc0fd
-- carries even signals, 0xef7dc0fd odd ones), its 7-bit rate signal and the
-- throughput it advises (100 kbit/s x 10^(n/20); 127: unknown), its
-- connection IDs and whether the DCID matches the next packet's; the QUIC
-- packets coalesced after it go to Wireshark's QUIC dissector. The 0xc8
-- 0x13 indication that ends a client's first-flight datagrams is shown and
-- kept from the QUIC dissector, which would read it as a packet.
--
-- Heuristic on UDP, so it finds SCONE on any port. A QUIC connection's
-- first datagram carries no SCONE packet, so the dissector takes the
-- datagrams that start a QUIC connection too (long header, QUIC v1 or v2)
-- and makes itself the conversation's dissector: the SCONE packets that
-- come later in the connection then reach it, not the QUIC dissector
-- directly. It also takes UDP port 443 from QUIC for the same reason.
--
-- The scone_supported transport parameter (0x219e) lives inside the TLS
-- handshake that the QUIC dissector decrypts; Wireshark 3.6/4.0 offer no
-- table through which a Lua dissector could decode one transport parameter
-- (its TLS dissector shows 0x219e as "Unknown"). A postdissector reads the
-- TLS dissector's tls.quic.parameter.type fields instead and adds a SCONE
-- item for the parameter, with an error when it is not empty, as the draft
-- requires.
--
-- Install: copy to Wireshark's plugin folder (Help > About > Folders), e.g.
-- ~/.local/lib/wireshark/plugins/, or use tshark -X lua_script:scone.lua.
-- Filter fields: scone, scone.rate_signal, scone.rate, scone.version,
-- scone.dcid, scone.scid, scone.indication, scone.tp.scone_supported.

local scone = Proto("scone", "SCONE (network throughput advice)")

local VERSION_EVEN = 0x6f7dc0fd -- the rate signal's low bit is 0
local VERSION_ODD = 0xef7dc0fd  -- ... is 1
local SIGNAL_UNKNOWN = 127
local TP_SCONE_SUPPORTED = 0x219e

local versions = {
  [VERSION_EVEN] = "SCONE (even rate signals)",
  [VERSION_ODD] = "SCONE (odd rate signals)",
}

local f = scone.fields
f.first_byte = ProtoField.uint8("scone.first_byte", "First byte", base.HEX)
f.header_form = ProtoField.uint8("scone.header_form", "Header form",
  base.DEC, { [1] = "Long" }, 0x80)
f.reserved = ProtoField.uint8("scone.reserved", "Reserved", base.DEC, nil,
  0x40)
f.signal_high = ProtoField.uint8("scone.signal_high",
  "Rate signal high bits", base.DEC, nil, 0x3f)
f.version = ProtoField.uint32("scone.version", "Version", base.HEX, versions)
f.rate_signal = ProtoField.uint8("scone.rate_signal", "Rate signal",
  base.DEC)
f.rate = ProtoField.uint64("scone.rate", "Throughput advice (bit/s)",
  base.DEC)
f.rate_unknown = ProtoField.bool("scone.rate_unknown",
  "Throughput advice unknown")
f.dcid_len = ProtoField.uint8("scone.dcid_len",
  "Destination Connection ID length", base.DEC)
f.dcid = ProtoField.bytes("scone.dcid", "Destination Connection ID")
f.scid_len = ProtoField.uint8("scone.scid_len",
  "Source Connection ID length", base.DEC)
f.scid = ProtoField.bytes("scone.scid", "Source Connection ID")
f.dcid_match = ProtoField.bool("scone.dcid_match",
  "DCID matches the next packet's")
f.indication = ProtoField.bytes("scone.indication",
  "SCONE indication (0xc8 0x13)")
f.tp = ProtoField.bool("scone.tp.scone_supported",
  "scone_supported transport parameter (0x219e)")
f.tp_length = ProtoField.uint64("scone.tp.length",
  "scone_supported length", base.DEC)

local e_truncated = ProtoExpert.new("scone.truncated",
  "SCONE packet cut short: its connection IDs run past the datagram",
  expert.group.MALFORMED, expert.severity.ERROR)
local e_alone = ProtoExpert.new("scone.alone",
  "SCONE packet not coalesced with a QUIC packet: its advice is ignored",
  expert.group.PROTOCOL, expert.severity.WARN)
local e_dcid = ProtoExpert.new("scone.dcid_mismatch",
  "DCID differs from the next packet's: the SCONE packet is discarded",
  expert.group.PROTOCOL, expert.severity.WARN)
local e_two = ProtoExpert.new("scone.duplicate",
  "A second SCONE packet in the datagram: the datagram is discarded",
  expert.group.PROTOCOL, expert.severity.WARN)
local e_tp = ProtoExpert.new("scone.tp.not_empty",
  "scone_supported is not empty: a TRANSPORT_PARAMETER_ERROR",
  expert.group.PROTOCOL, expert.severity.ERROR)
scone.experts = { e_truncated, e_alone, e_dcid, e_two, e_tp }

local quic = Dissector.get("quic")

-- The rate table: round(100000 * 10^(n/20)) bit/s, as libscone's.
local function rate_bps(signal)
  return math.floor(100000 * 10 ^ (signal / 20) + 0.5)
end

-- 10000000 -> "10 Mbit/s", 1122018 -> "1.12 Mbit/s": three significant
-- digits, more where rounding would change the leading digit (1995262 is
-- "1.995 Mbit/s", not "2"), as the scone tool prints rates.
local function rate_text(bps)
  local units = { { 1e9, "Gbit/s" }, { 1e6, "Mbit/s" }, { 1e3, "kbit/s" } }
  local function lead(x)
    local i = string.format("%d", math.floor(x))
    return i:sub(1, 1), #i
  end
  for _, u in ipairs(units) do
    if bps >= u[1] then
      local v = bps / u[1]
      local d, n = lead(v)
      local s
      for sig = 3, 12 do
        s = string.format("%." .. sig .. "g", v)
        local sd, sn = lead(tonumber(s))
        if sd == d and sn == n then break end
      end
      return s .. " " .. u[2]
    end
  end
  return string.format("%d bit/s", bps)
end

local function scone_version(tvb, off)
  if tvb:len() < off + 5 or bit.band(tvb(off, 1):uint(), 0x80) == 0 then
    return nil
  end
  local v = tvb(off + 1, 4):uint()
  if v == VERSION_EVEN or v == VERSION_ODD then
    return v
  end
  return nil
end

-- The length of a QUIC v1/v2 long-header packet at off (Initial, 0-RTT,
-- Handshake carry a Length field), or nil.
local function varint(tvb, off)
  if tvb:len() < off + 1 then return nil, nil end
  local b = tvb(off, 1):uint()
  local n = bit.lshift(1, bit.rshift(b, 6))
  if tvb:len() < off + n then return nil, nil end
  local v = bit.band(b, 0x3f)
  for i = 1, n - 1 do
    v = v * 256 + tvb(off + i, 1):uint()
  end
  return v, n
end

local QUIC_V1, QUIC_V2 = 0x00000001, 0x6b3343cf

local function long_packet_len(tvb, off)
  if tvb:len() < off + 7 then return nil end
  local b0 = tvb(off, 1):uint()
  if bit.band(b0, 0x80) == 0 then return nil end
  local ver = tvb(off + 1, 4):uint()
  if ver ~= QUIC_V1 and ver ~= QUIC_V2 then return nil end
  local typ = bit.band(bit.rshift(b0, 4), 3)
  -- Retry (v1: 3, v2: 0) has no Length field.
  if (ver == QUIC_V1 and typ == 3) or (ver == QUIC_V2 and typ == 0) then
    return nil
  end
  local p = off + 5
  local dl = tvb(p, 1):uint(); p = p + 1 + dl
  if tvb:len() < p + 1 then return nil end
  local sl = tvb(p, 1):uint(); p = p + 1 + sl
  local initial = (ver == QUIC_V1 and typ == 0) or (ver == QUIC_V2 and typ == 1)
  if initial then
    local tl, n = varint(tvb, p)
    if not tl then return nil end
    p = p + n + tl
  end
  local len, n = varint(tvb, p)
  if not len then return nil end
  return p + n + len - off
end

-- Where the QUIC packets from off end if the datagram is long-header
-- packets followed by exactly the indication; nil otherwise.
local function indication_at(tvb, off)
  local len = tvb:len()
  if len < off + 2 or tvb(len - 2, 2):uint() ~= 0xc813 then return nil end
  local p = off
  while p < len - 2 do
    local n = long_packet_len(tvb, p)
    if not n then return nil end
    p = p + n
  end
  if p == len - 2 then return p end
  return nil
end

-- Hands the QUIC packets of tvb from off to the QUIC dissector, the
-- indication (if it ends the datagram) to the tree.
local function dissect_rest(tvb, pinfo, tree, off)
  local len = tvb:len()
  if off >= len then return end
  local ind = indication_at(tvb, off)
  local quic_end = ind or len
  if quic_end > off then
    quic:call(tvb(off, quic_end - off):tvb(), pinfo, tree)
  end
  if ind then
    tree:add(scone, tvb(ind, 2), "SCONE indication"):add(f.indication,
      tvb(ind, 2))
    pinfo.cols.info:append(" [SCONE indication]")
  end
end

local function dissect_scone(tvb, pinfo, tree)
  local len = tvb:len()
  local b0 = tvb(0, 1):uint()
  local v = tvb(1, 4):uint()
  local dl = len >= 6 and tvb(5, 1):uint() or 0
  local scid_at = 6 + dl
  local sl = len > scid_at and tvb(scid_at, 1):uint() or 0
  local total = scid_at + 1 + sl
  local signal = bit.lshift(bit.band(b0, 0x3f), 1) + bit.rshift(v, 31)

  local t = tree:add(scone, tvb(0, math.min(total, len)))
  t:add(f.first_byte, tvb(0, 1))
  t:add(f.header_form, tvb(0, 1))
  t:add(f.reserved, tvb(0, 1))
  t:add(f.signal_high, tvb(0, 1))
  t:add(f.version, tvb(1, 4))
  local sig = t:add(f.rate_signal, tvb(0, 5), signal)
  sig:set_generated()
  local what
  if signal == SIGNAL_UNKNOWN then
    t:add(f.rate_unknown, tvb(0, 5), true):set_generated()
    what = "unknown"
  else
    local bps = rate_bps(signal)
    t:add(f.rate, tvb(0, 5), UInt64.new(bps)):append_text(
      " (" .. rate_text(bps) .. ")"):set_generated()
    what = rate_text(bps)
  end
  t:append_text(string.format(", rate signal %d (%s)", signal, what))
  pinfo.cols.protocol:set("SCONE")
  local info = string.format("SCONE signal %d (%s)", signal, what)

  if len < 6 or total > len then
    t:add_proto_expert_info(e_truncated)
    pinfo.cols.info:set(info .. " [truncated]")
    return len
  end
  t:add(f.dcid_len, tvb(5, 1))
  if dl > 0 then t:add(f.dcid, tvb(6, dl)) end
  t:add(f.scid_len, tvb(scid_at, 1))
  if sl > 0 then t:add(f.scid, tvb(scid_at + 1, sl)) end

  if total >= len then
    t:add_proto_expert_info(e_alone)
  elseif scone_version(tvb, total) then
    t:add_proto_expert_info(e_two)
  else
    -- The next packet's DCID: a long header says its length; a short
    -- header's is the SCONE packet's (the same connection ID).
    local nb = tvb(total, 1):uint()
    local match
    if bit.band(nb, 0x80) ~= 0 and len >= total + 6 then
      local ndl = tvb(total + 5, 1):uint()
      match = ndl == dl and len >= total + 6 + ndl and
          (dl == 0 or tvb(total + 6, ndl):bytes() == tvb(6, dl):bytes())
    elseif bit.band(nb, 0x80) == 0 then
      match = len >= total + 1 + dl and
          (dl == 0 or tvb(total + 1, dl):bytes() == tvb(6, dl):bytes())
    end
    if match ~= nil then
      t:add(f.dcid_match, tvb(5, 1 + dl), match):set_generated()
      if not match then t:add_proto_expert_info(e_dcid) end
    end
  end

  dissect_rest(tvb, pinfo, tree, total)
  pinfo.cols.protocol:set("SCONE+" .. tostring(pinfo.cols.protocol))
  pinfo.cols.info:prepend(info .. ", ")
  return len
end

function scone.dissector(tvb, pinfo, tree)
  if scone_version(tvb, 0) then
    return dissect_scone(tvb, pinfo, tree)
  end
  dissect_rest(tvb, pinfo, tree, 0)
  return tvb:len()
end

-- A datagram that starts with a SCONE packet, or with a QUIC v1/v2 long
-- header packet (a connection starting, which may carry the indication).
local function heuristic(tvb, pinfo, tree)
  if tvb:len() < 7 then return false end
  if not scone_version(tvb, 0) and not long_packet_len(tvb, 0) then
    return false
  end
  pinfo.conversation = scone
  scone.dissector(tvb, pinfo, tree)
  return true
end

scone:register_heuristic("udp", heuristic)
DissectorTable.get("udp.port"):add(443, scone)

-- The transport parameter, from what the TLS dissector decoded.
local scone_tp = Proto("scone_tp", "SCONE transport parameter")
local tp_type = Field.new("tls.quic.parameter.type")
local tp_len = Field.new("tls.quic.parameter.length")

function scone_tp.dissector(tvb, pinfo, tree)
  local types = { tp_type() }
  if #types == 0 then return end
  local lens = { tp_len() }
  for i, ti in ipairs(types) do
    if ti.value == UInt64.new(TP_SCONE_SUPPORTED) then
      local t = tree:add(scone, ti.range,
        "SCONE: scone_supported transport parameter (0x219e)")
      t:add(f.tp, ti.range, true):set_generated()
      local li = lens[i]
      if li then
        t:add(f.tp_length, li.range, li.value)
        if li.value ~= UInt64.new(0) then
          t:add_proto_expert_info(e_tp)
        end
      end
      pinfo.cols.info:append(" [scone_supported]")
    end
  end
end

register_postdissector(scone_tp, true)
