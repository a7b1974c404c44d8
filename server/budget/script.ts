/**
 * The one Lua script every change to a shared budget goes through, so each change is atomic
 * and every server reads one clock: Redis `TIME` (hosts' clocks differ). Since Redis 5 a
 * script replicates as its effects, so writing after `TIME` is safe. Every key it touches is
 * passed in KEYS and they share one hash tag, so it runs on a Redis Cluster too.
 *
 * KEYS: 1 meta (hash: epoch, born), 2 servers (hash: name -> "leaseExpiry:serverCount"),
 * then per lane a log (sorted set: request -> the time its window starts counting from; for a
 * request in flight, its latest possible answer) and a wait list (sorted set: server -> the
 * urgency of the call it waits to send). Lane 1 is KEYS 3 and 4, lane 2 is KEYS 5 and 6.
 * ARGV: 1 operation, 2 this server's name, then the operation's own arguments (shared.ts
 * builds them). Every reply starts with a status and Redis' time in milliseconds.
 */
export const BUDGET_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, me = ARGV[1], ARGV[2]
local meta, servers = KEYS[1], KEYS[2]

local function lane(i)
  local n = tonumber(i)
  return KEYS[1 + 2 * n], KEYS[2 + 2 * n]
end

-- "leaseEnd:serverCount", or "lapsedAt:serverCount:r" for a server remembered by another
-- after the log was lost, which has not said hello since.
local function parse(value)
  local a = string.find(value, ':', 1, true)
  local b = string.find(value, ':', a + 1, true)
  local count = tonumber(string.sub(value, a + 1, (b or 0) - 1))
  return tonumber(string.sub(value, 1, a - 1)), count, b ~= nil
end

-- Every server still remembered: name, lease expiry, the server count it shares by. A server
-- whose lease lapsed long ago is forgotten (it crashed and never came back).
local function roster(forgetMs)
  local all = redis.call('HGETALL', servers)
  local list = {}
  for i = 1, #all, 2 do
    local expiry, count, remembered = parse(all[i + 1])
    if expiry <= now and now - expiry > forgetMs then
      redis.call('HDEL', servers, all[i])
      for k = 4, #KEYS, 2 do redis.call('ZREM', KEYS[k], all[i]) end
    else
      list[#list + 1] = { all[i], expiry, count, remembered }
    end
  end
  return list
end

local function flat(list)
  local out = {}
  for _, s in ipairs(list) do
    out[#out + 1] = s[1]
    out[#out + 1] = (s[2] > now) and 1 or 0
    out[#out + 1] = s[3]
  end
  return out
end

local function live(name)
  local value = redis.call('HGET', servers, name)
  if not value then return false end
  local expiry = parse(value)
  return expiry > now
end

local epoch = redis.call('HGET', meta, 'epoch')
local born = tonumber(redis.call('HGET', meta, 'born') or '0')

if op == 'time' then return { 'ok', now } end

if op == 'hello' or op == 'renew' then
  -- ARGV 4: when the lease ends, on Redis' clock, as the server reckoned it when it sent the
  -- command. A command that arrives late (a slow link, a stalled connection) may come after
  -- the server gave up on it and went on at its share: it must not bring the lease back.
  if tonumber(ARGV[4]) <= now then return { 'late', now } end
end

if op == 'hello' then
  -- ARGV: 3 a new epoch id, 4 lease end, 5 server count, 6 forget ms, 7 how many remembered
  -- servers follow as (name, count, live 1 or 0), then (lane, request, ms from now) to put back.
  local fresh = 0
  if not epoch then
    epoch, born, fresh = ARGV[3], now, 1
    redis.call('HSET', meta, 'epoch', epoch, 'born', born)
  end
  local i = 8
  for _ = 1, tonumber(ARGV[7]) do
    -- Seen live before the log was lost: what it sent then is gone with the log, so until it
    -- says hello (and puts its sends back) it counts as having used everything, for one window.
    -- Seen lapsed: it was counted as its share already, and still is.
    if fresh == 1 then
      local mark = ARGV[i + 2] == '1' and ':r' or ''
      redis.call('HSETNX', servers, ARGV[i], now .. ':' .. ARGV[i + 1] .. mark)
    end
    i = i + 3
  end
  local added = 0
  while i + 2 <= #ARGV do
    local log = lane(ARGV[i])
    added = added + redis.call('ZADD', log, 'NX', now + tonumber(ARGV[i + 2]), ARGV[i + 1])
    i = i + 3
  end
  redis.call('HSET', servers, me, ARGV[4] .. ':' .. ARGV[5])
  return { 'ok', now, epoch, born, fresh, added, flat(roster(tonumber(ARGV[6]))) }
end

if op == 'bye' then
  redis.call('HDEL', servers, me)
  for k = 4, #KEYS, 2 do redis.call('ZREM', KEYS[k], me) end
  return { 'ok', now }
end

if op == 'release' then
  -- ARGV: 3 lane, 4 request, 5 margin ms. Its window starts now, never later than the
  -- latest answer it was held for.
  local log = lane(ARGV[3])
  redis.call('ZADD', log, 'XX', 'LT', now + tonumber(ARGV[5]), ARGV[4])
  return { 'ok', now }
end

if op == 'cancel' then
  local log = lane(ARGV[3])
  redis.call('ZREM', log, ARGV[4])
  return { 'ok', now }
end

if op == 'publish' then
  -- ARGV: 3 lane, 4 urgency score, or '' when nothing waits
  local _, wait = lane(ARGV[3])
  if ARGV[4] == '' then redis.call('ZREM', wait, me) else redis.call('ZADD', wait, ARGV[4], me) end
  return { 'ok', now }
end

-- The rest need this server registered in this epoch: after Redis lost its data, or after
-- this server's lease lapsed, it says hello again first (and puts its sends back).
if epoch ~= ARGV[3] or not live(me) then return { 'hello', now } end

if op == 'renew' then
  -- ARGV: 3 epoch, 4 lease end, 5 server count, 6 forget ms, then (lane, window ms) pairs
  redis.call('HSET', servers, me, ARGV[4] .. ':' .. ARGV[5])
  local used = {}
  local i = 7
  while i + 1 <= #ARGV do
    local log = lane(ARGV[i])
    redis.call('ZREMRANGEBYSCORE', log, '-inf', now - tonumber(ARGV[i + 1]))
    used[#used + 1] = redis.call('ZCARD', log)
    i = i + 2
  end
  return { 'ok', now, epoch, born, 0, 0, flat(roster(tonumber(ARGV[6]))), used }
end

if op ~= 'reserve' and op ~= 'record' then
  return redis.error_reply('unknown operation ' .. tostring(op))
end

-- reserve and record. ARGV: 3 epoch, 4 lane, 5 request, 6 hold ms (its latest answer, plus
-- the margin), 7 window ms, 8 limit, 9 urgency score, 10 forget ms, 11 poll ms
local log, wait = lane(ARGV[4])
local windowMs = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - windowMs)

local limit = tonumber(ARGV[8])
local phantom, alive, silent = 0, {}, false
for _, s in ipairs(roster(tonumber(ARGV[10]))) do
  if s[2] > now then
    alive[s[1]] = true
  elseif s[4] and now < born + windowMs + tonumber(ARGV[6]) then
    -- Remembered from before the log was lost, and silent since: it may have used it all.
    phantom = phantom + limit
    silent = true
  else
    -- Its lease lapsed: it may be cut off from Redis and sending on its share meanwhile.
    phantom = phantom + math.floor(limit / math.max(1, s[3]))
  end
end
if op == 'reserve' then
  redis.call('ZADD', wait, ARGV[9], me)
  -- Global priority: the most urgent call waiting on any live server goes first.
  for _, name in ipairs(redis.call('ZRANGE', wait, 0, -1)) do
    if alive[name] then
      if name ~= me then return { 'behind', now, now + tonumber(ARGV[11]) } end
      break
    end
  end
end
-- A young log (record) is sent on shares, but never past what it holds either: servers that
-- said hello at different moments may briefly count a different number of servers.
local count = redis.call('ZCARD', log)
if count + phantom >= limit then
  -- Free when the request (count + phantom - limit)th from the oldest leaves the window.
  local k = count + phantom - limit
  local at = now + windowMs
  if k < count then
    local e = redis.call('ZRANGE', log, k, k, 'WITHSCORES')
    at = tonumber(e[2]) + windowMs
  end
  -- A silent server may say hello any moment: ask again soon.
  if silent then at = math.min(at, now + 1000) end
  return { 'full', now, at }
end
redis.call('ZADD', log, now + tonumber(ARGV[6]), ARGV[5])
if op == 'reserve' then redis.call('ZREM', wait, me) end
return { 'ok', now }
`;
