/**
 * The Redis engine's atomic steps, one Lua script each, on Redis Streams. Keys (under a
 * prefix; `<tt>` is `<tenant>:<topic>`):
 *
 * - `s:<tt>` the topic's stream, one entry per stored message (any state), entry id `<n>-0`
 *   with `n` from the global counter `seq`, fields `i` msg_id (ULID), `b` body, `a` attrs,
 *   `s` sent_at, `x` e2e. Consumer group `mailbox` (one consumer): XREADGROUP `>` hands out
 *   the messages never delivered, in order; every delivered message stays in the group's
 *   pending list until it is acked, deleted or purged (then XACK + XDEL).
 * - `m:<tenant>:<msg_id>` a small hash: `tp` topic, `n` stream seq, `st` state (0 waiting,
 *   1 leased, 2 dead, 3 delayed), `at` attempt, `d` deliveries, `e` last error.
 * - `lease:<tt>` and `delay:<tt>` sorted sets msg_id → lease end / NACK delay end;
 *   `retry:<tt>` msg_id → n, delivered before and visible again (lease ran out, NACK,
 *   redrive), handed out before new entries; `dead:<tt>` msg_id → n, the dead letters.
 * - `depth:<tenant>` messages stored (quota), `idem:<tt>:<key>` dedupe, `topics` every `<tt>`
 *   with a stream (for depth by state).
 *
 * Times come from the caller's clock (ARGV), never Redis's, so every node and the tests agree.
 */

const GROUP = "mailbox";

/** Declares `pfx`, `tenant`, `topic`, the topic's keys and `mk` (message hash key stem). */
const TOPIC_KEYS = `
local pfx, tenant, topic = ARGV[1], ARGV[2], ARGV[3]
local tt = tenant .. ':' .. topic
local s, lease, delay = pfx .. 's:' .. tt, pfx .. 'lease:' .. tt, pfx .. 'delay:' .. tt
local retry, dead = pfx .. 'retry:' .. tt, pfx .. 'dead:' .. tt
local mk = pfx .. 'm:' .. tenant .. ':'
`;

/** Removes a message from its stream and the group's pending list. */
const DROP_ENTRY = `
local function drop_entry(stream, n)
  local sid = n .. '-0'
  redis.call('XACK', stream, '${GROUP}', sid)
  redis.call('XDEL', stream, sid)
end
`;

/** A stream entry's fields (flat list) as a table. */
const ENTRY_FIELDS = `
local function fields(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
`;

/** ARGV: pfx tenant topic msg_id body attrs now idem_key body_hash window max_depth e2e */
export const SEND = `${TOPIC_KEYS}
local id, now, idem = ARGV[4], tonumber(ARGV[7]), ARGV[8]
local ik = pfx .. 'idem:' .. tt .. ':' .. idem
if idem ~= '' then
  local seen = redis.call('HMGET', ik, 'id', 'h', 'x')
  if seen[1] and tonumber(seen[3]) > now then
    if seen[2] == ARGV[9] then return {'dup', seen[1]} end
    return {'conflict'}
  end
end
local depth = pfx .. 'depth:' .. tenant
if tonumber(redis.call('GET', depth) or '0') >= tonumber(ARGV[11]) then return {'quota'} end
if redis.call('EXISTS', s) == 0 then
  redis.call('XGROUP', 'CREATE', s, '${GROUP}', '0', 'MKSTREAM')
  redis.call('SADD', pfx .. 'topics', tt)
end
local n = redis.call('INCR', pfx .. 'seq')
redis.call('XADD', s, n .. '-0', 'i', id, 'b', ARGV[5], 'a', ARGV[6], 's', ARGV[7], 'x', ARGV[12])
redis.call('HSET', mk .. id, 'tp', topic, 'n', n, 'st', 0, 'at', 0, 'd', 0)
redis.call('INCR', depth)
if idem ~= '' then
  redis.call('HSET', ik, 'id', id, 'h', ARGV[9], 'x', now + tonumber(ARGV[10]))
  redis.call('PEXPIRE', ik, tonumber(ARGV[10]) + 60000)
end
return {'new', id}
`;

/**
 * ARGV: pfx tenant topic now max visibility_ms max_attempts.
 * Returns {next_visible_at or -1, dead-lettered now, then per delivery: msg_id, delivery,
 * attempt, sent_at, attrs, body, e2e}.
 */
export const RECV = `${TOPIC_KEYS}${ENTRY_FIELDS}
local now, max, vis, maxAttempts = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if redis.call('EXISTS', s) == 0 then return {'-1', '0'} end
local dlq = 0
-- Leases that ran out (all of them, however many): the last attempt is dead, the others are
-- visible again in their original place. NACK delays that ended are visible again too.
local expired = redis.call('ZRANGEBYSCORE', lease, '-inf', now)
for _, id in ipairs(expired) do
  local f = redis.call('HMGET', mk .. id, 'at', 'n')
  if tonumber(f[1]) >= maxAttempts then
    redis.call('HSET', mk .. id, 'st', 2, 'e', 'visibility timeout expired')
    redis.call('ZADD', dead, f[2], id)
    dlq = dlq + 1
  else
    redis.call('HSET', mk .. id, 'st', 0)
    redis.call('ZADD', retry, f[2], id)
  end
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', lease, '-inf', now) end
local due = redis.call('ZRANGEBYSCORE', delay, '-inf', now)
for _, id in ipairs(due) do
  redis.call('HSET', mk .. id, 'st', 0)
  redis.call('ZADD', retry, redis.call('HGET', mk .. id, 'n'), id)
end
if #due > 0 then redis.call('ZREMRANGEBYSCORE', delay, '-inf', now) end

local out = {'-1', tostring(dlq)}
local taken = 0
local function hand_out(id, sid, entry)
  local f = redis.call('HMGET', mk .. id, 'at', 'd')
  -- An entry without its message hash (keys removed by hand) is dropped, not handed out.
  if not f[1] then
    redis.call('XACK', s, '${GROUP}', sid)
    redis.call('XDEL', s, sid)
    return
  end
  local at, d = tonumber(f[1]) + 1, tonumber(f[2]) + 1
  redis.call('HSET', mk .. id, 'st', 1, 'at', at, 'd', d)
  redis.call('ZADD', lease, now + vis, id)
  local e = fields(entry)
  for _, x in ipairs({id, tostring(d), tostring(at), e.s, e.a, e.b, e.x}) do out[#out + 1] = x end
  taken = taken + 1
end
-- First what is visible again, by stream order: all of it was accepted before anything the
-- group never delivered, so it keeps its place in line.
local again = redis.call('ZRANGE', retry, 0, max - 1)
for _, id in ipairs(again) do
  local n = redis.call('HGET', mk .. id, 'n')
  local claimed = n and redis.call('XCLAIM', s, '${GROUP}', '${GROUP}', 0, n .. '-0') or {}
  if claimed[1] then hand_out(id, claimed[1][1], claimed[1][2]) end
end
if #again > 0 then redis.call('ZREMRANGEBYRANK', retry, 0, #again - 1) end
-- Then new messages, in order.
if taken < max then
  local read = redis.call('XREADGROUP', 'GROUP', '${GROUP}', '${GROUP}', 'COUNT', max - taken, 'STREAMS', s, '>')
  if read then
    for _, entry in ipairs(read[1][2]) do
      hand_out(fields(entry[2]).i, entry[1], entry[2])
    end
  end
end
if taken == 0 then
  local nextv = -1
  for _, z in ipairs({lease, delay}) do
    local first = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
    if first[2] and (nextv < 0 or tonumber(first[2]) < nextv) then nextv = tonumber(first[2]) end
  end
  out[1] = tostring(nextv)
end
return out
`;

/**
 * ack | nack | extend of a receipt's live lease; {'stale'} otherwise.
 * ARGV: pfx tenant msg_id delivery now op ms error max_attempts topic-or-''
 */
export const LEASE = `${DROP_ENTRY}
local pfx, tenant, id, delivery, now, op = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local h = pfx .. 'm:' .. tenant .. ':' .. id
local f = redis.call('HMGET', h, 'tp', 'st', 'd', 'at', 'n')
if not f[1] or f[2] ~= '1' or f[3] ~= delivery then return {'stale'} end
if ARGV[10] ~= '' and f[1] ~= ARGV[10] then return {'stale'} end
local tt = tenant .. ':' .. f[1]
local lease = pfx .. 'lease:' .. tt
local ends = tonumber(redis.call('ZSCORE', lease, id))
if not ends or ends <= now then return {'stale'} end
if op == 'ack' then
  drop_entry(pfx .. 's:' .. tt, f[5])
  redis.call('DEL', h)
  redis.call('ZREM', lease, id)
  redis.call('DECR', pfx .. 'depth:' .. tenant)
  return {'acked', f[1]}
elseif op == 'nack' then
  redis.call('ZREM', lease, id)
  if tonumber(f[4]) >= tonumber(ARGV[9]) then
    redis.call('HSET', h, 'st', 2, 'e', ARGV[8])
    redis.call('ZADD', pfx .. 'dead:' .. tt, f[5], id)
    return {'dead', f[1]}
  end
  local ms = tonumber(ARGV[7])
  if ms > 0 then
    redis.call('HSET', h, 'st', 3)
    redis.call('ZADD', pfx .. 'delay:' .. tt, now + ms, id)
  else
    redis.call('HSET', h, 'st', 0)
    redis.call('ZADD', pfx .. 'retry:' .. tt, f[5], id)
  end
  return {'nacked', f[1]}
end
redis.call('ZADD', lease, now + tonumber(ARGV[7]), id)
return {'extended', f[1]}
`;

/** ARGV: pfx tenant msg_id topic-or-''. Returns 1 when a message was removed. */
export const DELETE = `${DROP_ENTRY}
local pfx, tenant, id = ARGV[1], ARGV[2], ARGV[3]
local h = pfx .. 'm:' .. tenant .. ':' .. id
local f = redis.call('HMGET', h, 'tp', 'n')
if not f[1] or (ARGV[4] ~= '' and f[1] ~= ARGV[4]) then return 0 end
local tt = tenant .. ':' .. f[1]
drop_entry(pfx .. 's:' .. tt, f[2])
for _, z in ipairs({'lease:', 'delay:', 'retry:', 'dead:'}) do redis.call('ZREM', pfx .. z .. tt, id) end
redis.call('DEL', h)
redis.call('DECR', pfx .. 'depth:' .. tenant)
return 1
`;

/** ARGV: pfx tenant topic max. Returns per dead letter: msg_id, attempts, sent_at, error, attrs, body, e2e. */
export const DLQ_LIST = `${TOPIC_KEYS}${ENTRY_FIELDS}
local out = {}
for _, id in ipairs(redis.call('ZRANGE', dead, 0, tonumber(ARGV[4]) - 1)) do
  local m = redis.call('HMGET', mk .. id, 'at', 'e', 'n')
  local entry = redis.call('XRANGE', s, m[3] .. '-0', m[3] .. '-0')
  if entry[1] then
    local e = fields(entry[1][2])
    for _, x in ipairs({id, m[1], e.s, m[2], e.a, e.b, e.x}) do out[#out + 1] = x end
  end
end
return out
`;

/** ARGV: pfx tenant topic max. Moves the oldest `max` dead letters back, attempts reset. */
export const DLQ_REDRIVE = `${TOPIC_KEYS}
local ids = redis.call('ZRANGE', dead, 0, tonumber(ARGV[4]) - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  redis.call('HSET', mk .. ids[i], 'st', 0, 'at', 0, 'e', '')
  redis.call('ZADD', retry, ids[i + 1], ids[i])
  redis.call('ZREM', dead, ids[i])
end
return #ids / 2
`;

/** ARGV: pfx tenant topic. Removes every dead letter of the topic. */
export const DLQ_PURGE = `${TOPIC_KEYS}${DROP_ENTRY}
local ids = redis.call('ZRANGE', dead, 0, -1, 'WITHSCORES')
for i = 1, #ids, 2 do
  drop_entry(s, ids[i + 1])
  redis.call('DEL', mk .. ids[i])
end
redis.call('DEL', dead)
if #ids > 0 then redis.call('DECRBY', pfx .. 'depth:' .. tenant, #ids / 2) end
return #ids / 2
`;

/**
 * ARGV: pfx now. Messages by state from per-topic sizes (XLEN, ZCOUNT, ZCARD), never per
 * message: ready = stored − live leases − pending delays − dead letters (a lease or delay
 * that has run out is ready, as it is for RECV). A topic with nothing stored is dropped.
 */
export const DEPTH = `
local pfx, now = ARGV[1], ARGV[2]
local ready, inflight, delayed, dlq = 0, 0, 0, 0
for _, tt in ipairs(redis.call('SMEMBERS', pfx .. 'topics')) do
  local s = pfx .. 's:' .. tt
  local stored = redis.call('XLEN', s)
  if stored == 0 then
    redis.call('DEL', s, pfx .. 'lease:' .. tt, pfx .. 'delay:' .. tt, pfx .. 'retry:' .. tt, pfx .. 'dead:' .. tt)
    redis.call('SREM', pfx .. 'topics', tt)
  else
    local live = redis.call('ZCOUNT', pfx .. 'lease:' .. tt, '(' .. now, '+inf')
    local later = redis.call('ZCOUNT', pfx .. 'delay:' .. tt, '(' .. now, '+inf')
    local d = redis.call('ZCARD', pfx .. 'dead:' .. tt)
    inflight, delayed, dlq = inflight + live, delayed + later, dlq + d
    ready = ready + stored - live - later - d
  end
end
return {ready, inflight, delayed, dlq}
`;
