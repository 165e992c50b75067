/**
 * The Redis engine's atomic steps, one Lua script each. Keys (under a prefix):
 * `m:<msg_id>` a hash per message (t tenant, tp topic, seq, b body, a attrs, s sent_at,
 * st state 0 waiting / 1 leased / 2 dead, v visible_at, at attempt, d deliveries, e last error);
 * `q:<tenant>:<topic>` the live messages by acceptance order (sorted set, score = seq);
 * `dead:<tenant>:<topic>` the dead letters by seq; `depth:<tenant>`; `idem:<tenant>:<topic>:<key>`;
 * `topics` every tenant:topic seen (for depth by state). Times come from the caller's clock.
 */

export const SEND = `
local pfx, tenant, topic, id, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[7])
local idem = ARGV[8]
local ik = pfx .. 'idem:' .. tenant .. ':' .. topic .. ':' .. idem
if idem ~= '' then
  local seen = redis.call('HMGET', ik, 'id', 'h', 'x')
  if seen[1] and tonumber(seen[3]) > now then
    if seen[2] == ARGV[9] then return {'dup', seen[1]} end
    return {'conflict'}
  end
end
local depth = tonumber(redis.call('GET', pfx .. 'depth:' .. tenant) or '0')
if depth >= tonumber(ARGV[11]) then return {'quota'} end
local seq = redis.call('INCR', pfx .. 'seq')
redis.call('HSET', pfx .. 'm:' .. id, 't', tenant, 'tp', topic, 'seq', seq, 'b', ARGV[5], 'a', ARGV[6],
  's', now, 'st', 0, 'v', now, 'at', 0, 'd', 0, 'e', '', 'x2', ARGV[12])
redis.call('ZADD', pfx .. 'q:' .. tenant .. ':' .. topic, seq, id)
redis.call('INCR', pfx .. 'depth:' .. tenant)
redis.call('SADD', pfx .. 'topics', tenant .. ':' .. topic)
if idem ~= '' then
  redis.call('HSET', ik, 'id', id, 'h', ARGV[9], 'x', now + tonumber(ARGV[10]))
  redis.call('PEXPIRE', ik, tonumber(ARGV[10]) + 60000)
end
return {'new', id}
`;

export const RECV = `
local pfx, tenant, topic = ARGV[1], ARGV[2], ARGV[3]
local now, max, vis, maxAttempts = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local q = pfx .. 'q:' .. tenant .. ':' .. topic
local dead = pfx .. 'dead:' .. tenant .. ':' .. topic
local out = {'', ''}
local n, dlq, nextv, start = 0, 0, -1, 0
while n < max do
  local ids = redis.call('ZRANGE', q, start, start + 99)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local h = pfx .. 'm:' .. id
    local f = redis.call('HMGET', h, 'st', 'v', 'at', 'd', 'seq')
    local v = tonumber(f[2])
    if v <= now then
      if f[1] == '1' and tonumber(f[3]) >= maxAttempts then
        redis.call('HSET', h, 'st', 2, 'e', 'visibility timeout expired')
        redis.call('ZREM', q, id)
        redis.call('ZADD', dead, tonumber(f[5]), id)
        dlq = dlq + 1
        start = start - 1
      else
        local att, d = tonumber(f[3]) + 1, tonumber(f[4]) + 1
        redis.call('HSET', h, 'st', 1, 'v', now + vis, 'at', att, 'd', d)
        local m = redis.call('HMGET', h, 's', 'a', 'b', 'x2')
        for _, x in ipairs({id, tostring(d), tostring(att), m[1], m[2], m[3], m[4] or '0'}) do out[#out + 1] = x end
        n = n + 1
      end
    elseif nextv < 0 or v < nextv then
      nextv = v
    end
    start = start + 1
    if n >= max then break end
  end
end
out[1] = tostring(nextv)
out[2] = tostring(dlq)
return out
`;

/** ack | nack | extend of a receipt's live lease; 'stale' otherwise. */
export const LEASE = `
local pfx, tenant, id, delivery, now, op = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local h = pfx .. 'm:' .. id
local f = redis.call('HMGET', h, 't', 'st', 'd', 'v', 'tp', 'at', 'seq')
if not f[1] or f[1] ~= tenant or f[2] ~= '1' or f[3] ~= delivery or tonumber(f[4]) <= now then return {'stale'} end
if ARGV[10] ~= '' and f[5] ~= ARGV[10] then return {'stale'} end
local q = pfx .. 'q:' .. tenant .. ':' .. f[5]
if op == 'ack' then
  redis.call('DEL', h)
  redis.call('ZREM', q, id)
  redis.call('DECR', pfx .. 'depth:' .. tenant)
  return {'acked', f[5]}
elseif op == 'nack' then
  if tonumber(f[6]) >= tonumber(ARGV[9]) then
    redis.call('HSET', h, 'st', 2, 'e', ARGV[8])
    redis.call('ZREM', q, id)
    redis.call('ZADD', pfx .. 'dead:' .. tenant .. ':' .. f[5], tonumber(f[7]), id)
    return {'dead', f[5]}
  end
  redis.call('HSET', h, 'st', 0, 'v', now + tonumber(ARGV[7]))
  return {'nacked', f[5]}
end
redis.call('HSET', h, 'v', now + tonumber(ARGV[7]))
return {'extended', f[5]}
`;

export const DELETE = `
local pfx, tenant, id = ARGV[1], ARGV[2], ARGV[3]
local h = pfx .. 'm:' .. id
local f = redis.call('HMGET', h, 't', 'tp')
if not f[1] or f[1] ~= tenant or (ARGV[4] ~= '' and f[2] ~= ARGV[4]) then return 0 end
redis.call('DEL', h)
redis.call('ZREM', pfx .. 'q:' .. tenant .. ':' .. f[2], id)
redis.call('ZREM', pfx .. 'dead:' .. tenant .. ':' .. f[2], id)
redis.call('DECR', pfx .. 'depth:' .. tenant)
return 1
`;

export const DLQ_LIST = `
local pfx, tenant, topic, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', pfx .. 'dead:' .. tenant .. ':' .. topic, 0, max - 1)) do
  local m = redis.call('HMGET', pfx .. 'm:' .. id, 'at', 's', 'e', 'a', 'b', 'x2')
  for _, x in ipairs({id, m[1], m[2], m[3], m[4], m[5], m[6] or '0'}) do out[#out + 1] = x end
end
return out
`;

export const DLQ_REDRIVE = `
local pfx, tenant, topic, max, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local dead = pfx .. 'dead:' .. tenant .. ':' .. topic
local q = pfx .. 'q:' .. tenant .. ':' .. topic
local ids = redis.call('ZRANGE', dead, 0, max - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  redis.call('HSET', pfx .. 'm:' .. ids[i], 'st', 0, 'v', now, 'at', 0, 'e', '')
  redis.call('ZREM', dead, ids[i])
  redis.call('ZADD', q, ids[i + 1], ids[i])
end
return #ids / 2
`;

export const DLQ_PURGE = `
local pfx, tenant, topic = ARGV[1], ARGV[2], ARGV[3]
local dead = pfx .. 'dead:' .. tenant .. ':' .. topic
local ids = redis.call('ZRANGE', dead, 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', pfx .. 'm:' .. id) end
redis.call('DEL', dead)
if #ids > 0 then redis.call('DECRBY', pfx .. 'depth:' .. tenant, #ids) end
return #ids
`;

export const DEPTH = `
local pfx, now = ARGV[1], tonumber(ARGV[2])
local ready, inflight, delayed, dlq = 0, 0, 0, 0
for _, key in ipairs(redis.call('SMEMBERS', pfx .. 'topics')) do
  dlq = dlq + redis.call('ZCARD', pfx .. 'dead:' .. key)
  for _, id in ipairs(redis.call('ZRANGE', pfx .. 'q:' .. key, 0, -1)) do
    local f = redis.call('HMGET', pfx .. 'm:' .. id, 'st', 'v')
    if tonumber(f[2]) <= now then ready = ready + 1
    elseif f[1] == '1' then inflight = inflight + 1
    else delayed = delayed + 1 end
  end
end
return {ready, inflight, delayed, dlq}
`;
